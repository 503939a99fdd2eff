import { Controller, Get, Header } from '@nestjs/common';
import { CurrentAuth, SignedIn } from './auth/auth.decorators.js';
import type { RequestAuth } from './auth/auth.types.js';

/**
 * `GET /api/v1/account`: who the credentials belong to. Lets an operator or a CI job check
 * an API token (`curl -u __token__:$TOKEN …`) without uploading anything.
 */
@Controller('api/v1/account')
export class AccountApiController {
  @Get()
  @SignedIn({ tokens: true })
  @Header('Cache-Control', 'no-store')
  whoami(@CurrentAuth() auth: Exclude<RequestAuth, { kind: 'anonymous' }>) {
    return {
      username: auth.user.username,
      isAdmin: auth.user.isAdmin,
      authenticatedBy: auth.kind,
      token:
        auth.kind === 'token'
          ? {
              id: auth.token.id,
              name: auth.token.name,
              projects: auth.token.projects,
              expiresAt: auth.token.expiresAt,
            }
          : null,
    };
  }
}
