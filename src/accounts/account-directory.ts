import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AccountDirectory } from '../plugin-host/directories.js';
import { Role } from '../projects/role.entity.js';
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

  async projectMaintainers(projectId: string): Promise<string[]> {
    const roles = await this.dataSource.getRepository(Role).findBy({ projectId });
    return roles.map((role) => role.userId);
  }
}
