import { Injectable } from '@nestjs/common';
import { DataSource, MoreThan, type EntityManager } from 'typeorm';
import { PROJECT_ROLES, type ProjectRoleName } from '../accounts/auth/auth.types.js';
import { User } from '../accounts/users/user.entity.js';
import { userRef } from '../accounts/users/user.refs.js';
import { requestContext } from '../context/request-context.js';
import { HookBus } from '../hooks/hook-bus.js';
import { Project } from './project.entity.js';
import { ProjectError, projectRef } from './project.service.js';
import { Role } from './role.entity.js';
import { RoleInvitation } from './role-invitation.entity.js';

/** Invitations expire after a week unless accepted (PyPI's invitations expire too). */
export const INVITATION_DAYS = 7;

export function isRoleName(value: unknown): value is ProjectRoleName {
  return typeof value === 'string' && (PROJECT_ROLES as readonly string[]).includes(value);
}

/**
 * Collaboration: invitations by username, and changes to roles. Owners act; the last Owner
 * can neither be removed nor demoted, so a project is never left without one.
 */
@Injectable()
export class RoleService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hooks: HookBus,
  ) {}

  async collaborators(projectId: string): Promise<Role[]> {
    const roles = await this.dataSource.manager.find(Role, {
      where: { projectId },
      relations: { user: true },
    });
    return roles.sort(
      (a, b) =>
        PROJECT_ROLES.indexOf(b.roleName) - PROJECT_ROLES.indexOf(a.roleName) ||
        a.user!.username.localeCompare(b.user!.username),
    );
  }

  /** Pending, unexpired invitations of a project. */
  pendingInvitations(projectId: string): Promise<RoleInvitation[]> {
    return this.dataSource.manager.find(RoleInvitation, {
      where: { projectId, expiresAt: MoreThan(new Date()) },
      relations: { user: true },
      order: { createdAt: 'ASC' },
    });
  }

  /** The user's own pending invitations, for their projects page. */
  invitationsFor(userId: string): Promise<RoleInvitation[]> {
    return this.dataSource.manager.find(RoleInvitation, {
      where: { userId, expiresAt: MoreThan(new Date()) },
      relations: { project: true, invitedBy: true },
      order: { createdAt: 'ASC' },
    });
  }

  async invite(
    project: Project,
    username: string,
    roleName: ProjectRoleName,
  ): Promise<RoleInvitation> {
    const user = await this.dataSource.manager.findOneBy(User, {
      normalizedUsername: username.trim().toLowerCase(),
    });
    if (!user || user.isDisabled) throw new ProjectError(`No active user named "${username}".`);
    if (await this.dataSource.manager.findOneBy(Role, { projectId: project.id, userId: user.id })) {
      throw new ProjectError(`${user.username} already collaborates on ${project.name}.`);
    }
    const existing = await this.dataSource.manager.findOneBy(RoleInvitation, {
      projectId: project.id,
      userId: user.id,
    });
    if (existing && existing.expiresAt > new Date()) {
      throw new ProjectError(
        `${user.username} already has a pending invitation to ${project.name}.`,
      );
    }
    return this.hooks.perform(
      'role.invited',
      { project: projectRef(project), user: userRef(user), role: roleName },
      async (m) => {
        // An expired invitation makes way for the new one.
        if (existing) await m.remove(existing);
        return m.save(
          m.create(RoleInvitation, {
            projectId: project.id,
            userId: user.id,
            invitedById: this.actingUserId(),
            roleName,
            expiresAt: new Date(Date.now() + INVITATION_DAYS * 24 * 3600 * 1000),
          }),
        );
      },
    );
  }

  /** The invitee accepts: the invitation becomes a role (`role.added`). */
  async accept(invitationId: string, user: User): Promise<Role> {
    const invitation = await this.pendingOf(invitationId, user);
    const project = invitation.project!;
    return this.hooks.perform(
      'role.added',
      { project: projectRef(project), user: userRef(user), role: invitation.roleName },
      async (m) => {
        await m.remove(invitation);
        return m.save(
          m.create(Role, { projectId: project.id, userId: user.id, roleName: invitation.roleName }),
        );
      },
    );
  }

  async decline(invitationId: string, user: User): Promise<void> {
    const invitation = await this.pendingOf(invitationId, user);
    await this.hooks.perform(
      'role.invite-declined',
      { project: projectRef(invitation.project!), user: userRef(user), role: invitation.roleName },
      async (m) => {
        await m.remove(invitation);
      },
    );
  }

  /** An owner withdraws an invitation. */
  async revoke(project: Project, invitationId: string): Promise<void> {
    const invitation = await this.dataSource.manager.findOne(RoleInvitation, {
      where: { id: invitationId, projectId: project.id },
      relations: { user: true },
    });
    if (!invitation) throw new ProjectError('No such invitation.', 404);
    await this.hooks.perform(
      'role.invite-revoked',
      { project: projectRef(project), user: userRef(invitation.user!), role: invitation.roleName },
      async (m) => {
        await m.remove(invitation);
      },
    );
  }

  async change(project: Project, roleId: string, roleName: ProjectRoleName): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const role = await this.roleOn(project, roleId, manager);
      if (role.roleName === roleName) return;
      if (role.roleName === 'Owner') await this.assertAnotherOwner(project, manager);
      const previousRole = role.roleName;
      await this.hooks.perform(
        'role.changed',
        { project: projectRef(project), user: userRef(role.user!), role: roleName, previousRole },
        async (m) => {
          role.roleName = roleName;
          await m.save(role);
        },
        { manager },
      );
    });
  }

  async remove(project: Project, roleId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const role = await this.roleOn(project, roleId, manager);
      if (role.roleName === 'Owner') await this.assertAnotherOwner(project, manager);
      await this.hooks.perform(
        'role.removed',
        { project: projectRef(project), user: userRef(role.user!), role: role.roleName },
        async (m) => {
          await m.remove(role);
        },
        { manager },
      );
    });
  }

  private async roleOn(project: Project, roleId: string, manager: EntityManager): Promise<Role> {
    // Row lock: two owners removing each other at once must not leave the project ownerless.
    const owners = await manager.find(Role, {
      where: { projectId: project.id },
      lock: { mode: 'pessimistic_write' },
    });
    const role = owners.find((r) => r.id === roleId);
    if (!role) throw new ProjectError('No such collaborator.', 404);
    role.user = (await manager.findOneBy(User, { id: role.userId }))!;
    return role;
  }

  private async assertAnotherOwner(project: Project, manager: EntityManager): Promise<void> {
    const owners = await manager.countBy(Role, { projectId: project.id, roleName: 'Owner' });
    if (owners <= 1) {
      throw new ProjectError(
        `${project.name} must keep at least one Owner: make someone else an Owner first.`,
        409,
      );
    }
  }

  private async pendingOf(invitationId: string, user: User): Promise<RoleInvitation> {
    const invitation = await this.dataSource.manager.findOne(RoleInvitation, {
      where: { id: invitationId, userId: user.id },
      relations: { project: true },
    });
    if (!invitation) throw new ProjectError('No such invitation.', 404);
    if (invitation.expiresAt <= new Date()) {
      throw new ProjectError('This invitation has expired: ask an owner to invite you again.');
    }
    return invitation;
  }

  private actingUserId(): string | null {
    const actor = requestContext().actor;
    return actor.kind === 'user' || actor.kind === 'token' ? actor.userId : null;
  }
}
