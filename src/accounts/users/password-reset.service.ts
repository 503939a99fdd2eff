import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../../config/config.module.js';
import type { Config } from '../../config/config.js';
import { HookBus } from '../../hooks/hook-bus.js';
import { AccountInputError } from '../account.errors.js';
import { EmailService, normalizeEmail } from '../emails/email.service.js';
import { Mailer } from '../emails/mailer.service.js';
import { UserEmail } from '../emails/user-email.entity.js';
import { KeyRing } from '../key-ring.js';
import { LoginLimiter } from '../sessions/login-limiter.service.js';
import type { User } from './user.entity.js';
import { userRef } from './user.refs.js';
import { UserService } from './user.service.js';
import { DataSource } from 'typeorm';

/** Reset links last 6 hours, as on PyPI. */
const RESET_TTL_SECONDS = 6 * 3600;

/**
 * Password reset by e-mail link. The link is signed and names the password it replaces
 * (its change time), so it works once: after the reset, or any password change, it is void.
 */
@Injectable()
export class PasswordResetService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UserService,
    private readonly emails: EmailService,
    private readonly mailer: Mailer,
    private readonly keys: KeyRing,
    private readonly limiter: LoginLimiter,
    private readonly hooks: HookBus,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  link(user: User): string {
    const token = this.keys.sign(
      'password-reset',
      { u: user.id, p: user.passwordChangedAt?.getTime() ?? 0 },
      RESET_TTL_SECONDS,
    );
    return `${this.config.baseUrl}/account/reset-password/confirm/?token=${encodeURIComponent(token)}`;
  }

  /**
   * Sends a reset link to the primary address of the account named by username or e-mail.
   * Answers the same whether or not the account exists, so the form reveals no accounts.
   */
  async request(usernameOrEmail: string): Promise<void> {
    const given = usernameOrEmail.trim();
    let user = await this.users.findByUsername(given);
    if (!user && given.includes('@')) {
      const email = await this.dataSource.manager.findOneBy(UserEmail, {
        normalizedEmail: normalizeEmail(given),
      });
      user = email ? await this.users.findById(email.userId) : null;
    }
    if (!user || user.isDisabled) return;
    await this.send(user);
  }

  /** Mails the link to `user`'s primary address (also used for accounts made without a password). */
  async send(user: User): Promise<void> {
    const primary = await this.emails.primaryOf(user.id);
    if (!primary) return;
    await this.mailer.send({
      to: primary.email,
      subject: 'Reset your Larder password',
      text:
        `Hello ${user.username},\n\n` +
        `open this link within 6 hours to choose a new password:\n\n${this.link(user)}\n\n` +
        'If you did not ask for this, ignore this message: your password stays as it is.\n',
    });
    this.hooks.emit('account.password.reset-requested', { user: userRef(user) });
  }

  /** The account a reset link is for; throws when the link is forged, expired or used. */
  async userFor(token: string): Promise<User> {
    const payload = this.keys.verify<{ u: string; p: number }>('password-reset', token);
    const user = payload ? await this.users.findById(payload.u) : null;
    if (
      !payload ||
      !user ||
      user.isDisabled ||
      (user.passwordChangedAt?.getTime() ?? 0) !== payload.p
    ) {
      throw new AccountInputError(
        'This password reset link is invalid, has expired or was already used: ask for a new one.',
      );
    }
    return user;
  }

  async reset(token: string, newPassword: string): Promise<User> {
    const user = await this.userFor(token);
    await this.users.resetPassword(user, newPassword);
    await this.limiter.clearAccount(user.username);
    return user;
  }
}
