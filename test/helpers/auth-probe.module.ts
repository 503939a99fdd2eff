import { Controller, Get, Global, Module, Post } from '@nestjs/common';
import {
  CurrentProject,
  ProjectRole,
  ReadAccess,
  SignedIn,
} from '../../src/accounts/auth/auth.decorators.js';
import type { ResolvedProject } from '../../src/accounts/auth/auth.types.js';
import { requestContext } from '../../src/context/request-context.js';
import { runAsSystem } from '../../src/context/request-context.js';

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

// Project roles come from the real projects feature (issue 4): test/helpers/projects.ts.
@Global()
@Module({
  controllers: [AuthProbeController],
})
export class AuthProbeModule {}
