import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AccountDirectory } from '../plugin-host/directories.js';
import { UserEmail } from './emails/user-email.entity.js';

/** The accounts side of the plugin API's {@link AccountDirectory}: plugins never see entities. */
@Injectable()
export class AccountDirectoryService implements AccountDirectory {
  constructor(private readonly dataSource: DataSource) {}

  async primaryEmail(userId: string): Promise<string | null> {
    // Mail goes only to an address its holder proved, as PyPI does.
    const email = await this.dataSource
      .getRepository(UserEmail)
      .findOneBy({ userId, primary: true, verified: true });
    return email?.email ?? null;
  }

  async projectMaintainers(): Promise<string[]> {
    // Projects and roles arrive with the package index (issue 4), which answers this.
    return [];
  }
}
