import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AccountDirectory } from '../../plugin-host/directories.js';
import { UserEmail } from '../emails/user-email.entity.js';

/**
 * Accounts as plugins may read them (`ACCOUNT_DIRECTORY` in the plugin API): addresses to
 * notify, never the entities themselves.
 */
@Injectable()
export class UserDirectory implements AccountDirectory {
  constructor(private readonly dataSource: DataSource) {}

  /** Security notices go only to a verified address, so a mistyped one never receives them. */
  async primaryEmail(userId: string): Promise<string | null> {
    const email = await this.dataSource
      .getRepository(UserEmail)
      .findOneBy({ userId, primary: true, verified: true });
    return email?.email ?? null;
  }

  async projectMaintainers(_projectId: string): Promise<string[]> {
    // TODO(issue 4): the project's Owners and Maintainers, once roles exist.
    return [];
  }
}
