import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import type { AccountDirectory } from '../plugin-host/directories.js';
import { Role } from '../projects/role.entity.js';
import { UserEmail } from './emails/user-email.entity.js';
import { User } from './users/user.entity.js';

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

  async usernames(userIds: string[]): Promise<Map<string, string>> {
    if (userIds.length === 0) return new Map();
    const users = await this.dataSource
      .getRepository(User)
      .find({ select: { id: true, username: true }, where: { id: In(userIds) } });
    return new Map(users.map((u) => [u.id, u.username]));
  }

  async ownedProjects(
    userId: string,
  ): Promise<Array<{ id: string; name: string; normalizedName: string }>> {
    const roles = await this.dataSource
      .getRepository(Role)
      .find({ where: { userId, roleName: 'Owner' }, relations: { project: true } });
    return roles
      .filter((role) => role.project)
      .map((role) => ({
        id: role.projectId,
        name: role.project!.name,
        normalizedName: role.project!.normalizedName,
      }));
  }
}
