import { Injectable, Module, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { Request } from 'express';
import { setActor } from '../../src/context/request-context.js';
import { userActor } from './test-app.js';

/**
 * Test-only sign-in until the accounts feature lands: `X-Test-User: alice` acts as alice,
 * `X-Test-Admin: 1` makes her an admin. Registered as a global guard so it runs before route
 * guards, where real authentication will run.
 */
@Injectable()
class TestAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const username = req.header('x-test-user');
    if (username) setActor(userActor(username, req.header('x-test-admin') === '1'));
    return true;
  }
}

@Module({ providers: [{ provide: APP_GUARD, useClass: TestAuthGuard }] })
export class TestAuthModule {}
