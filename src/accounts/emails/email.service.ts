import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { isEmail } from 'class-validator';
import { DataSource, type EntityManager } from 'typeorm';
import { CONFIG } from '../../config/config.module.js';
import type { Config } from '../../config/config.js';
import { HookBus } from '../../hooks/hook-bus.js';
import { AccountInputError } from '../account.errors.js';
import { KeyRing } from '../key-ring.js';
import { User } from '../users/user.entity.js';
import { userRef } from '../users/user.refs.js';
import { Mailer } from './mailer.service.js';
import { UserEmail } from './user-email.entity.js';

/** Verification links last a day, as on PyPI. */
const VERIFY_TTL_SECONDS = 24 * 3600;
const MAX_EMAILS = 10;

export function normalizeEmail(address: string): string {
  return address.trim().toLowerCase();
}

/** The reason `address` cannot be used, or `null`. */
export function emailProblem(address: string): string | null {
  const trimmed = address.trim();
  if (trimmed.length === 0) return 'Enter an e-mail address.';
  if (trimmed.length > 254 || !isEmail(trimmed))
    return `"${trimmed}" is not a valid e-mail address.`;
  return null;
}

@Injectable()
export class EmailService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hooks: HookBus,
    private readonly keys: KeyRing,
    private readonly mailer: Mailer,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  list(userId: string, manager: EntityManager = this.dataSource.manager): Promise<UserEmail[]> {
    return manager.find(UserEmail, {
      where: { userId },
      order: { primary: 'DESC', createdAt: 'ASC' },
    });
  }

  async primaryOf(userId: string): Promise<UserEmail | null> {
    return this.dataSource.manager.findOneBy(UserEmail, { userId, primary: true });
  }

  async assertAvailable(address: string, manager: EntityManager): Promise<void> {
    const problem = emailProblem(address);
    if (problem) throw new AccountInputError(problem);
    if (await manager.existsBy(UserEmail, { normalizedEmail: normalizeEmail(address) })) {
      throw new AccountInputError('This e-mail address is already in use by another account.');
    }
  }

  /** A new UserEmail row for `user`; the caller saves it inside its own action. */
  build(user: User, address: string, primary: boolean): UserEmail {
    const email = new UserEmail();
    email.userId = user.id;
    email.email = address.trim();
    email.normalizedEmail = normalizeEmail(address);
    email.primary = primary;
    email.verified = false;
    email.verifiedAt = null;
    return email;
  }

  async add(user: User, address: string): Promise<UserEmail> {
    const email = await this.hooks.perform(
      'account.email.added',
      { user: userRef(user), email: address.trim() },
      async (manager) => {
        await this.assertAvailable(address, manager);
        const existing = await this.list(user.id, manager);
        if (existing.length >= MAX_EMAILS) {
          throw new AccountInputError(
            `An account can have at most ${MAX_EMAILS} e-mail addresses.`,
          );
        }
        return manager.save(this.build(user, address, existing.length === 0));
      },
    );
    await this.sendVerification(user, email);
    return email;
  }

  async remove(user: User, emailId: string): Promise<void> {
    const email = await this.owned(user, emailId);
    if (email.primary) {
      throw new AccountInputError(
        'You cannot remove your primary e-mail address: make another one primary first.',
      );
    }
    await this.hooks.perform(
      'account.email.removed',
      { user: userRef(user), email: email.email },
      (manager) => manager.remove(email),
    );
  }

  async makePrimary(user: User, emailId: string): Promise<void> {
    const email = await this.owned(user, emailId);
    if (email.primary) return;
    if (!email.verified) {
      throw new AccountInputError('Verify this e-mail address before making it primary.');
    }
    const old = await this.primaryOf(user.id);
    await this.hooks.perform(
      'account.email.primary-changed',
      { user: userRef(user), oldPrimary: old?.email ?? null, newPrimary: email.email },
      async (manager) => {
        if (old) {
          old.primary = false;
          await manager.save(old);
        }
        email.primary = true;
        await manager.save(email);
      },
    );
  }

  verificationLink(email: UserEmail): string {
    const token = this.keys.sign(
      'email-verification',
      { e: email.id, a: email.normalizedEmail },
      VERIFY_TTL_SECONDS,
    );
    return `${this.config.baseUrl}/account/verify-email/?token=${encodeURIComponent(token)}`;
  }

  async sendVerification(user: User, email: UserEmail): Promise<void> {
    await this.mailer.send({
      to: email.email,
      subject: 'Verify your e-mail address for Larder',
      text:
        `Hello ${user.username},\n\n` +
        `open this link within 24 hours to verify ${email.email}:\n\n` +
        `${this.verificationLink(email)}\n\n` +
        'If you did not add this address to a Larder account, ignore this message.\n',
    });
  }

  async resend(user: User, emailId: string): Promise<void> {
    const email = await this.owned(user, emailId);
    if (email.verified) throw new AccountInputError('This e-mail address is already verified.');
    await this.sendVerification(user, email);
  }

  /** Marks the address in a verification link as verified; returns it. */
  async verify(token: string): Promise<UserEmail> {
    const payload = this.keys.verify<{ e: string; a: string }>('email-verification', token);
    const email = payload
      ? await this.dataSource.manager.findOneBy(UserEmail, { id: payload.e })
      : null;
    if (!payload || !email || email.normalizedEmail !== payload.a) {
      throw new AccountInputError(
        'This verification link is invalid or has expired: ask for a new one from your account page.',
      );
    }
    if (email.verified) return email;
    const owner = await this.dataSource.manager.findOneByOrFail(User, { id: email.userId });
    return this.hooks.perform(
      'account.email.verified',
      { user: userRef(owner), email: email.email, primary: email.primary },
      async (manager) => {
        email.verified = true;
        email.verifiedAt = new Date();
        return manager.save(email);
      },
    );
  }

  /** Another user's e-mail answers exactly like a missing one. */
  private async owned(user: User, emailId: string): Promise<UserEmail> {
    const email = /^[0-9a-f-]{36}$/i.test(emailId)
      ? await this.dataSource.manager.findOneBy(UserEmail, { id: emailId, userId: user.id })
      : null;
    if (!email) throw new NotFoundException('No such e-mail address on your account.');
    return email;
  }
}
