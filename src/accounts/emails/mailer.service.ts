import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import { CONFIG } from '../../config/config.module.js';
import type { Config } from '../../config/config.js';
import { LOGGER } from '../../ops/ops.tokens.js';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

/**
 * Sends e-mail through LARDER_SMTP_URL; without it, writes each message to the log so the
 * operator can pass the link on (a small install often has no mail server).
 * Listeners (`onSend`) see every message: tests read links from them, a plugin may too.
 */
@Injectable()
export class Mailer implements OnModuleDestroy {
  private readonly transport: Transporter | null;
  private readonly listeners: ((mail: OutgoingMail) => void)[] = [];
  /** Deliveries in flight: waited for at shutdown, so the CLI does not exit before its e-mail. */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    // Short timeouts: a mail server that hangs must not hold connections open for minutes.
    this.transport = config.smtpUrl
      ? nodemailer.createTransport({
          url: config.smtpUrl,
          connectionTimeout: 10_000,
          greetingTimeout: 10_000,
          socketTimeout: 30_000,
        })
      : null;
  }

  onSend(listener: (mail: OutgoingMail) => void): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener), 1);
  }

  /**
   * Queues the message and returns at once: a mail server that is slow or down must neither
   * delay nor fail the action that wanted to write (failures are logged).
   */
  async send(mail: OutgoingMail): Promise<void> {
    for (const listener of this.listeners) listener(mail);
    if (!this.transport) {
      this.logger.info(
        { mailTo: mail.to, subject: mail.subject, text: mail.text },
        'e-mail not sent (LARDER_SMTP_URL is unset): pass it on to the user',
      );
      return;
    }
    const delivery = this.transport
      .sendMail({ from: this.config.mailFrom, ...mail })
      .then(
        () => undefined,
        (error: unknown) => {
          this.logger.error(
            { err: error, mailTo: mail.to, subject: mail.subject },
            'e-mail failed',
          );
        },
      )
      .finally(() => this.pending.delete(delivery));
    this.pending.add(delivery);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    this.transport?.close();
  }
}
