import { Controller, Get, Global, Module, Post } from '@nestjs/common';
import {
  CurrentProject,
  ProjectRole,
  ReadAccess,
  SignedIn,
} from '../../src/accounts/auth/auth.decorators.js';
import {
  PROJECT_ROLE_RESOLVER,
  type ProjectRoleResolver,
  type ResolvedProject,
} from '../../src/accounts/auth/auth.types.js';
import { requestContext } from '../../src/context/request-context.js';
import { runAsSystem } from '../../src/context/request-context.js';

/**
 * Stands in for the projects feature (issue 4) in auth tests: projects and roles held in
 * memory, keyed by normalised project name then user id.
 */
export class FakeProjects implements ProjectRoleResolver {
  readonly roles = new Map<string, Map<string, 'Owner' | 'Maintainer'>>();

  grant(project: string, userId: string, role: 'Owner' | 'Maintainer'): void {
    const members = this.roles.get(project) ?? new Map();
    members.set(userId, role);
    this.roles.set(project, members);
  }

  async resolve(name: string, userId: string): Promise<ResolvedProject | null> {
    const normalized = name.replace(/[-_.]+/g, '-').toLowerCase();
    const members = this.roles.get(normalized);
    if (!members) return null;
    return {
      project: { id: `id-${normalized}`, name, normalizedName: normalized },
      role: members.get(userId) ?? null,
    };
  }
}

export const fakeProjects = new FakeProjects();

/** Test-only routes behind each access decorator. */
@Controller('probe-auth')
class AuthProbeController {
  @Get('whoami')
  @SignedIn({ tokens: true })
  whoami() {
    return { actor: requestContext().actor };
  }

  @Get('session-only')
  @SignedIn()
  sessionOnly() {
    return { ok: true };
  }

  @Get('read')
  @ReadAccess()
  read() {
    return { actor: requestContext().actor.kind };
  }

  @Post('projects/:name/upload')
  @ProjectRole('Maintainer', { tokens: true })
  upload(@CurrentProject() project: ResolvedProject) {
    return { project: project.project.normalizedName, role: project.role };
  }

  @Post('projects/:name/settings')
  @ProjectRole('Owner')
  settings(@CurrentProject() project: ResolvedProject) {
    return { project: project.project.normalizedName };
  }

  @Get('no-policy')
  noPolicy() {
    return runAsSystem('never', () => 'should not be reached');
  }
}

@Global()
@Module({
  controllers: [AuthProbeController],
  providers: [{ provide: PROJECT_ROLE_RESOLVER, useValue: fakeProjects }],
  exports: [PROJECT_ROLE_RESOLVER],
})
export class AuthProbeModule {}
