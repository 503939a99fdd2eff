import { HttpException, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { ProjectRoleName, ResolvedProject } from '../accounts/auth/auth.types.js';
import type { User } from '../accounts/users/user.entity.js';
import { userRef } from '../accounts/users/user.refs.js';
import type { ProjectRef } from '../hooks/hook-map.js';
import { HookBus } from '../hooks/hook-bus.js';
import { normalizeName } from '../packages/names.js';
import { Project } from './project.entity.js';
import { Release } from '../packages/release.entity.js';
import { ReleaseFile } from '../packages/release-file.entity.js';
import { Role } from './role.entity.js';
import { RoleInvitation } from './role-invitation.entity.js';

export function projectRef(project: Project): ProjectRef {
  return { id: project.id, name: project.name, normalizedName: project.normalizedName };
}

/** A project action refused for a reason the user can act on. */
export class ProjectError extends HttpException {
  constructor(message: string, status: 400 | 403 | 404 | 409 = 400) {
    super({ message }, status);
    this.name = 'ProjectError';
  }
}

@Injectable()
export class ProjectService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hooks: HookBus,
  ) {}

  /** By any spelling that normalises to the project's name (PEP 503). */
  findByName(
    name: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<Project | null> {
    return manager.findOneBy(Project, { normalizedName: normalizeName(name) });
  }

  async roleOf(
    projectId: string,
    userId: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<ProjectRoleName | null> {
    const role = await manager.findOneBy(Role, { projectId, userId });
    return role?.roleName ?? null;
  }

  /** For the auth guard's `@ProjectRole` routes (PROJECT_ROLE_RESOLVER). */
  async resolve(projectName: string, userId: string): Promise<ResolvedProject | null> {
    const project = await this.findByName(projectName);
    if (!project) return null;
    return { project: projectRef(project), role: await this.roleOf(project.id, userId) };
  }

  /** The projects `user` has a role on, with the role, by name. */
  async listForUser(userId: string): Promise<{ project: Project; role: ProjectRoleName }[]> {
    const roles = await this.dataSource.manager.find(Role, {
      where: { userId },
      relations: { project: true },
    });
    return roles
      .map((role) => ({ project: role.project!, role: role.roleName }))
      .sort((a, b) => a.project.normalizedName.localeCompare(b.project.normalizedName));
  }

  /**
   * Creates a project with `owner` as its Owner (`project.created`, then `role.added`), inside
   * the caller's transaction: the first upload of a new name does this.
   */
  async create(name: string, owner: User, manager: EntityManager): Promise<Project> {
    const project = await this.hooks.perform(
      'project.created',
      (created: Project) => ({ project: projectRef(created), owner: userRef(owner) }),
      (m) => m.save(m.create(Project, { name, normalizedName: normalizeName(name) })),
      { manager },
    );
    await this.hooks.perform(
      'role.added',
      { project: projectRef(project), user: userRef(owner), role: 'Owner' },
      (m) => m.save(m.create(Role, { projectId: project.id, userId: owner.id, roleName: 'Owner' })),
      { manager },
    );
    return project;
  }

  /**
   * Deletes a project with its releases, files, roles and invitations (`project.deleted`),
   * confirmed by typing its name. Each row is removed through the manager so the audit
   * subscriber sees every one. Returns the storage keys to delete once committed.
   */
  async delete(project: Project, confirmation: string): Promise<string[]> {
    if (normalizeName(confirmation.trim()) !== project.normalizedName) {
      throw new ProjectError(`Type the project's name ("${project.name}") to confirm deleting it.`);
    }
    return this.hooks.perform('project.deleted', { project: projectRef(project) }, async (m) => {
      const fresh = await m.findOneBy(Project, { id: project.id });
      if (!fresh) throw new ProjectError(`No project named "${project.name}".`, 404);
      const files = await m.findBy(ReleaseFile, { projectId: project.id });
      const keys = files.flatMap((f) =>
        f.metadataKey ? [f.storageKey, f.metadataKey] : [f.storageKey],
      );
      await m.remove(files);
      await m.remove(await m.findBy(Release, { projectId: project.id }));
      await m.remove(await m.findBy(RoleInvitation, { projectId: project.id }));
      await m.remove(await m.findBy(Role, { projectId: project.id }));
      await m.remove(fresh);
      return keys;
    });
  }
}
