import {
  ForbiddenException,
  Inject,
  Injectable,
  NotFoundException,
  Optional,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { CONFIG } from '../../config/config.module.js';
import type { Config } from '../../config/config.js';
import { SignInRequiredError } from '../account.errors.js';
import { KeyRing } from '../key-ring.js';
import { CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, csrfValid } from '../sessions/csrf.js';
import { TokenRefusedError, TokenService } from '../tokens/token.service.js';
import { ACCESS_POLICY, CSRF_EXEMPT, type AccessPolicy } from './auth.decorators.js';
import {
  PROJECT_ROLE_RESOLVER,
  roleAtLeast,
  type ProjectRoleResolver,
  type RequestAuth,
} from './auth.types.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The token from `Authorization: Basic base64(<any user>:<token>)`; `null` without one. */
export function basicPassword(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : decoded.slice(colon + 1);
}

/**
 * The one authorisation guard (APP_GUARD): reads the route's {@link AccessPolicy}, accepts an
 * API token by HTTP Basic where the policy allows it, enforces the policy, and checks the CSRF
 * token of every unsafe request not authenticated by a token.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly keys: KeyRing,
    @Inject(CONFIG) private readonly config: Config,
    @Optional()
    @Inject(PROJECT_ROLE_RESOLVER)
    private readonly projects?: ProjectRoleResolver,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    const targets = [context.getHandler(), context.getClass()];
    const policy = this.reflector.getAllAndOverride<AccessPolicy | undefined>(
      ACCESS_POLICY,
      targets,
    );
    if (!policy) {
      // Deny by default: a route without an access decorator is a bug, not a public page.
      throw new ForbiddenException('This route declares no access policy.');
    }
    const acceptsTokens =
      policy.access === 'public' ||
      policy.access === 'read' ||
      (policy.access !== 'admin' && policy.tokens);

    const auth = await this.authenticate(req, acceptsTokens, policy.access === 'public');
    req.auth = auth;

    await this.authorize(req, res, policy, auth, acceptsTokens);

    if (!SAFE_METHODS.has(req.method) && auth.kind !== 'token') {
      const exempt = this.reflector.getAllAndOverride<boolean>(CSRF_EXEMPT, targets);
      if (!exempt) this.checkCsrf(req, auth);
    }
    return true;
  }

  private async authenticate(
    req: Request,
    acceptsTokens: boolean,
    isPublic: boolean,
  ): Promise<RequestAuth> {
    const current = req.auth ?? { kind: 'anonymous' };
    const presented = basicPassword(req.headers.authorization);
    if (presented === null || !acceptsTokens) return current;
    try {
      return await this.tokens.authenticateRequest(presented);
    } catch (error) {
      // On a public route a bad token is no reason to refuse what anyone may see.
      if (isPublic && error instanceof TokenRefusedError) return current;
      throw error;
    }
  }

  private async authorize(
    req: Request,
    res: Response,
    policy: AccessPolicy,
    auth: RequestAuth,
    acceptsTokens: boolean,
  ): Promise<void> {
    if (policy.access === 'public') return;
    if (policy.access === 'read' && this.config.readAccess === 'public') return;
    if (auth.kind === 'anonymous') {
      if (acceptsTokens) res.setHeader('WWW-Authenticate', 'Basic realm="larder"');
      throw new SignInRequiredError(!acceptsTokens);
    }
    if (policy.access === 'admin' && !auth.user.isAdmin) {
      throw new ForbiddenException('This page is for administrators.');
    }
    if (policy.access === 'project-role') {
      const name = String(req.params[policy.param] ?? '');
      const found = this.projects ? await this.projects.resolve(name, auth.user.id) : null;
      if (!found) throw new NotFoundException(`No project named "${name}".`);
      if (auth.kind === 'token' && auth.token.projects !== null) {
        if (!auth.token.projects.includes(found.project.normalizedName)) {
          throw new ForbiddenException(
            `This API token is limited to other projects than "${found.project.name}".`,
          );
        }
      }
      if (!roleAtLeast(found.role, policy.role)) {
        throw new ForbiddenException(
          `You need the ${policy.role} role on "${found.project.name}" to do this.`,
        );
      }
      req.project = found;
    }
  }

  private checkCsrf(req: Request, auth: RequestAuth): void {
    const body = req.body as Record<string, unknown> | undefined;
    const given = body?.[CSRF_FIELD] ?? req.headers[CSRF_HEADER];
    const cookies = (req.cookies ?? {}) as Record<string, string | undefined>;
    const binding =
      auth.kind === 'session' ? { sessionId: auth.session.id } : { cookie: cookies[CSRF_COOKIE] };
    if (!csrfValid(this.keys, given, binding)) {
      throw new ForbiddenException(
        'The form has expired or did not come from this site (CSRF check failed): reload the page and try again.',
      );
    }
    // Validated here; DTOs need not declare it (the ValidationPipe forbids unknown fields).
    if (body && typeof body === 'object') delete body[CSRF_FIELD];
  }
}
