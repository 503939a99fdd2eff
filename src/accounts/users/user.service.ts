import { randomUUID } from 'node:crypto';
import { Injectable, NotFoundException } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { HookBus } from '../../hooks/hook-bus.js';
import { AccountInputError } from '../account.errors.js';
import { EmailService } from '../emails/email.service.js';
import { Session } from '../sessions/session.entity.js';
import { PasswordService, passwordProblem } from './password.service.js';
import { User } from './user.entity.js';
import { userRef } from './user.refs.js';

/** PyPI's rule: letters, digits, `-`, `_`, `.`; starts and ends with a letter or digit. */
const USERNAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,48}[A-Za-z0-9])?$/;

export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}

/** The reason `username` is refused, or `null`. */
export function usernameProblem(username: string): string | null {
  if (!username) return 'Choose a username.';
  if (username.length > 50) return 'A username is at most 50 characters long.';
  if (!USERNAME.test(username)) {
    return (
      'A username may contain only letters, digits, "-", "_" and ".", ' +
      'and must start and end with a letter or digit.'
    );
  }
  return null;
}

export interface NewUser {
  username: string;
  email: string;
  /** Omitted: the account has no password until it is reset by e-mail or set by an admin. */
  password?: string;
  isAdmin?: boolean;
}

@Injectable()
export class UserService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hooks: HookBus,
    private readonly passwords: PasswordService,
    private readonly emails: EmailService,
  ) {}

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<User | null> {
    return manager.findOneBy(User, { id });
  }

  findByUsername(username: string): Promise<User | null> {
    const normalized = normalizeUsername(username);
    if (normalized.length === 0 || normalized.length > 50) return Promise.resolve(null);
    return this.dataSource.manager.findOneBy(User, { normalizedUsername: normalized });
  }

  async getByUsername(username: string): Promise<User> {
    const user = await this.findByUsername(username);
    if (!user) throw new NotFoundException(`No user named "${username}".`);
    return user;
  }
  /**
   * Creates an account with its primary e-mail (`account.created`) and sends the verification
   * link. `byAdmin`: made by an administrator or the CLI rather than by registering.
   */
  async create(input: NewUser, options: { byAdmin: boolean }): Promise<User> {
    const username = input.username.trim();
    const problem = usernameProblem(username);
    if (problem) throw new AccountInputError(problem);
    if (input.password !== undefined) {
      const weak = passwordProblem(input.password, username);
      if (weak) throw new AccountInputError(weak);
    }
    const passwordHash =
      input.password === undefined ? null : await this.passwords.hash(input.password);
    const user = new User();
    // Our own id, so the hook payload (and a before-hook) names the account before it exists.
    user.id = randomUUID();
    user.username = username;
    user.normalizedUsername = normalizeUsername(username);
    user.passwordHash = passwordHash;
    user.passwordChangedAt = passwordHash ? new Date() : null;
    user.isAdmin = input.isAdmin ?? false;
    user.isDisabled = false;
    user.disabledReason = null;
    user.lastLoginAt = null;
    const created = await this.hooks.perform(
      'account.created',
      { user: userRef(user), email: input.email.trim(), byAdmin: options.byAdmin },
      async (manager) => {
        if (await manager.existsBy(User, { normalizedUsername: user.normalizedUsername })) {
          throw new AccountInputError(`The username "${username}" is already taken.`);
        }
        await this.emails.assertAvailable(input.email, manager);
        const saved = await manager.save(user);
        const email = await manager.save(this.emails.build(saved, input.email, true));
        return { saved, email };
      },
    );
    await this.emails.sendVerification(created.saved, created.email);
    return created.saved;
  }

  /** Bookkeeping of the last sign-in: not an audited change (sign-ins are audited as events). */
  async recordLogin(user: User): Promise<void> {
    user.lastLoginAt = new Date();
    await this.dataSource
      .createQueryBuilder()
      .update(User)
      .set({ lastLoginAt: user.lastLoginAt })
      .where('id = :id', { id: user.id })
      .callListeners(false)
      .execute();
  }

  /** Changes the password (`account.password.changed`) and signs out every other session. */
  async changePassword(user: User, newPassword: string, keepSessionId?: string): Promise<void> {
    await this.setPassword(user, newPassword, 'account.password.changed', keepSessionId);
  }

  /** Sets the password from a reset link (`account.password.reset`) and signs out everywhere. */
  async resetPassword(user: User, newPassword: string): Promise<void> {
    await this.setPassword(user, newPassword, 'account.password.reset');
  }

  private async setPassword(
    user: User,
    newPassword: string,
    hook: 'account.password.changed' | 'account.password.reset',
    keepSessionId?: string,
  ): Promise<void> {
    const weak = passwordProblem(newPassword, user.username);
    if (weak) throw new AccountInputError(weak);
    const passwordHash = await this.passwords.hash(newPassword);
    await this.hooks.perform(hook, { user: userRef(user) }, async (manager) => {
      user.passwordHash = passwordHash;
      user.passwordChangedAt = new Date();
      await manager.save(user);
      await this.endSessions(manager, user.id, keepSessionId);
    });
  }

  /** Disables or enables an account (`account.disabled`); disabling ends its sessions. */
  async setDisabled(user: User, disabled: boolean, reason?: string): Promise<void> {
    if (user.isDisabled === disabled) return;
    const why = reason?.trim().slice(0, 200) || undefined;
    await this.hooks.perform(
      'account.disabled',
      { user: userRef(user), disabled, reason: why },
      async (manager) => {
        user.isDisabled = disabled;
        user.disabledReason = disabled ? (why ?? null) : null;
        await manager.save(user);
        if (disabled) await this.endSessions(manager, user.id);
      },
    );
  }

  /** Grants or revokes administrator rights (`account.admin-changed`). */
  async setAdmin(user: User, isAdmin: boolean): Promise<void> {
    if (user.isAdmin === isAdmin) return;
    await this.hooks.perform(
      'account.admin-changed',
      { user: userRef(user), isAdmin },
      async (manager) => {
        user.isAdmin = isAdmin;
        await manager.save(user);
      },
    );
  }

  /** Sessions are not audited rows: a plain delete is fine and keeps it to one statement. */
  private async endSessions(manager: EntityManager, userId: string, keep?: string): Promise<void> {
    const query = manager
      .createQueryBuilder()
      .delete()
      .from(Session)
      .where('user_id = :userId', { userId });
    if (keep) query.andWhere('id <> :keep', { keep });
    await query.execute();
  }
}
