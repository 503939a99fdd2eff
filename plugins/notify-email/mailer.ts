import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import nodemailer, { type Transporter } from 'nodemailer';
import { PluginContext } from '../../src/plugin-api/index.js';
import { NotifyEmailOptions } from './notify-email.options.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/**
 * Sends mail in the background with bounded retries and exponential backoff, so a slow or
 * failing SMTP server never holds up, or fails, the action that caused the mail.
 */
@Injectable()
export class Mailer implements OnApplicationShutdown {
  private readonly transport: Transporter;
  private readonly pending = new Set<Promise<void>>();
  /** Wake-ups of sends waiting to retry, so shutdown need not sit out their backoff. */
  private readonly waiting = new Set<() => void>();
  private closing = false;

  constructor(
    private readonly options: NotifyEmailOptions,
    private readonly plugin: PluginContext<NotifyEmailOptions>,
  ) {
    this.transport = nodemailer.createTransport(
      // Short timeouts: a dead server should fail an attempt, and let the retry come, soon.
      {
        url: options.smtpUrl,
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
      },
      { from: options.from },
    );
  }

  /** Queues `mail`; `onSent` runs once it is accepted by the server. Returns at once. */
  enqueue(mail: Mail, onSent: () => Promise<void>): void {
    const delivery = this.deliver(mail, onSent).finally(() => this.pending.delete(delivery));
    this.pending.add(delivery);
  }

  /** Resolves when everything queued so far is sent or given up (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async deliver(mail: Mail, onSent: () => Promise<void>): Promise<void> {
    const attempts = this.options.retries + 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await this.transport.sendMail(mail);
        this.plugin.logger.info({ subject: mail.subject, attempt }, 'notification e-mailed');
        await onSent().catch((error: unknown) =>
          this.plugin.logger.error({ err: error }, 'notification sent but not recorded'),
        );
        return;
      } catch (error) {
        const last = attempt === attempts || this.closing;
        this.plugin.logger[last ? 'error' : 'warn'](
          { err: error, subject: mail.subject, attempt, of: attempts },
          last ? 'notification not sent: giving up' : 'notification not sent: will retry',
        );
        if (last) return;
        await this.backoff(this.options.retryDelayMs * 2 ** (attempt - 1));
        if (this.closing) {
          this.plugin.logger.error(
            { subject: mail.subject },
            'notification not sent: Larder is stopping',
          );
          return;
        }
      }
    }
  }

  private backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiting.add(wake);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    // Let sends in flight finish; sends waiting to retry give up now (logged), none starts after.
    this.closing = true;
    for (const wake of [...this.waiting]) wake();
    await this.idle();
    this.transport.close();
  }
}
