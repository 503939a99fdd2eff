import type { ProjectRoleName } from '../../src/accounts/auth/auth.types.js';
import type { User } from '../../src/accounts/users/user.entity.js';
import { runAsSystem } from '../../src/context/request-context.js';
import type { Project } from '../../src/projects/project.entity.js';
import { ProjectService } from '../../src/projects/project.service.js';
import { RoleService } from '../../src/projects/role.service.js';
import { createUser } from './factories.js';
import type { TestApp } from './test-app.js';

/** A project with `owner` as its Owner, made as the first upload makes it. */
export async function createProject(t: TestApp, name: string, owner: User): Promise<Project> {
  const projects = t.app.get(ProjectService);
  return runAsSystem('test:create-project', () =>
    t.dataSource.transaction((manager) => projects.create(name, owner, manager)),
  );
}

/**
 * Gives `user` a role on project `name`, creating the project if needed (owned by `user` when
 * the role is Owner, else by a new user), through invitation and acceptance as in production.
 */
export async function grantRole(
  t: TestApp,
  name: string,
  user: User,
  role: ProjectRoleName,
): Promise<Project> {
  const projects = t.app.get(ProjectService);
  let project = await projects.findByName(name);
  if (!project) {
    if (role === 'Owner') return createProject(t, name, user);
    project = await createProject(t, name, (await createUser(t)).user);
  }
  const roles = t.app.get(RoleService);
  const found = project;
  await runAsSystem('test:grant-role', async () => {
    const invitation = await roles.invite(found, user.username, role);
    await roles.accept(invitation.id, user);
  });
  return project;
}
