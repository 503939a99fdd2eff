import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { AccountInputError } from '../account.errors.js';
import { UserEmail } from '../emails/user-email.entity.js';
import { PasswordResetService } from './password-reset.service.js';
import { User } from './user.entity.js';
import { UserService, type NewUser } from './user.service.js';

export type UserListing = User & { primaryEmail: string | null };

/** What administrators (pages and CLI) do to accounts; the rules that protect them from themselves. */
@Injectable()
export class AdminUserService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UserService,
    private readonly resets: PasswordResetService,
  ) {}

  /**
   * One page of accounts in username order, after the username `after` (keyset: stable while
   * accounts are added), optionally those whose username or an e-mail contains `q`.
   */
  async list(
    options: { q?: string; after?: string; limit?: number } = {},
  ): Promise<{ users: UserListing[]; next: string | null }> {
    const limit = options.limit ?? 50;
    const query = this.dataSource.manager
      .createQueryBuilder(User, 'u')
      .orderBy('u.normalizedUsername', 'ASC')
      .take(limit + 1);
    if (options.after) {
      query.andWhere('u.normalizedUsername > :after', { after: options.after.toLowerCase() });
    }
    const q = options.q?.trim().toLowerCase();
    if (q) {
      const like = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query.andWhere(
        '(u.normalizedUsername LIKE :like OR EXISTS (SELECT 1 FROM user_emails e WHERE e.user_id = u.id AND e.normalized_email LIKE :like))',
        { like },
      );
    }
    const found = await query.getMany();
    const page = found.slice(0, limit);
    const emails = page.length
      ? await this.dataSource.manager.findBy(UserEmail, {
          primary: true,
          userId: In(page.map((u) => u.id)),
        })
      : [];
    const byUser = new Map(emails.map((e) => [e.userId, e.email]));
    return {
      users: page.map((u) => Object.assign(u, { primaryEmail: byUser.get(u.id) ?? null })),
      next: found.length > limit ? page[page.length - 1].normalizedUsername : null,
    };
  }

  /** Without a password, the new user is mailed a link to choose one. */
  async create(input: NewUser): Promise<User> {
    const user = await this.users.create(input, { byAdmin: true });
    if (input.password === undefined) await this.resets.send(user);
    return user;
  }

  async setDisabled(actor: User | null, username: string, disabled: boolean, reason?: string) {
    const user = await this.users.getByUsername(username);
    if (actor && actor.id === user.id && disabled) {
      throw new AccountInputError('You cannot disable your own account.');
    }
    await this.users.setDisabled(user, disabled, reason);
    return user;
  }

  async setAdmin(actor: User | null, username: string, isAdmin: boolean) {
    const user = await this.users.getByUsername(username);
    if (actor && actor.id === user.id && !isAdmin) {
      throw new AccountInputError('You cannot revoke your own administrator rights.');
    }
    await this.users.setAdmin(user, isAdmin);
    return user;
  }
}
