import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AccountInputError } from '../account.errors.js';
import { UserEmail } from '../emails/user-email.entity.js';
import { PasswordResetService } from './password-reset.service.js';
import type { User } from './user.entity.js';
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

  async list(): Promise<UserListing[]> {
    const users = await this.users.list();
    const emails = await this.dataSource.manager.findBy(UserEmail, { primary: true });
    const byUser = new Map(emails.map((e) => [e.userId, e.email]));
    return users.map((u) => Object.assign(u, { primaryEmail: byUser.get(u.id) ?? null }));
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
