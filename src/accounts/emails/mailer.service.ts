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

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.transport = config.smtpUrl ? nodemailer.createTransport(config.smtpUrl) : null;
  }

  onSend(listener: (mail: OutgoingMail) => void): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener), 1);
  }

  /** Never throws: a mail server that is down must not fail the action that wanted to write. */
  async send(mail: OutgoingMail): Promise<void> {
    for (const listener of this.listeners) listener(mail);
    if (!this.transport) {
      this.logger.info(
        { mailTo: mail.to, subject: mail.subject, text: mail.text },
        'e-mail not sent (LARDER_SMTP_URL is unset): pass it on to the user',
      );
      return;
    }
    try {
      await this.transport.sendMail({ from: this.config.mailFrom, ...mail });
    } catch (error) {
      this.logger.error({ err: error, mailTo: mail.to, subject: mail.subject }, 'e-mail failed');
    }
  }

  onModuleDestroy(): void {
    this.transport?.close();
  }
}
