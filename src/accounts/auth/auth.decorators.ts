import { SetMetadata, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Session } from '../sessions/session.entity.js';
import type { ApiToken } from '../tokens/api-token.entity.js';
import type { User } from '../users/user.entity.js';
import type { ProjectRoleName, RequestAuth, ResolvedProject } from './auth.types.js';

/**
 * Who may call a route. Every route needs one of the decorators below; a route without any
 * is refused to everyone (deny by default), so a forgotten decorator cannot expose a page.
 */
export type AccessPolicy =
  | { access: 'public' }
  /** Public when LARDER_READ_ACCESS=public, otherwise signed in (session or token). */
  | { access: 'read' }
  | { access: 'signed-in'; tokens: boolean }
  | { access: 'admin' }
  | { access: 'project-role'; role: ProjectRoleName; param: string; tokens: boolean };

export const ACCESS_POLICY = 'larder:access-policy';
export const CSRF_EXEMPT = 'larder:csrf-exempt';

/** Anyone, signed in or not (an API token, if sent and valid, still sets the actor). */
export const Public = () => SetMetadata(ACCESS_POLICY, { access: 'public' } satisfies AccessPolicy);

/** Package reads (simple index, JSON API, files): follows LARDER_READ_ACCESS. */
export const ReadAccess = () =>
  SetMetadata(ACCESS_POLICY, { access: 'read' } satisfies AccessPolicy);

/**
 * A signed-in user. By default only a browser session: account pages are not for API tokens.
 * `{ tokens: true }` also accepts an API token (HTTP Basic), for APIs.
 */
export const SignedIn = (options: { tokens?: boolean } = {}) =>
  SetMetadata(ACCESS_POLICY, {
    access: 'signed-in',
    tokens: options.tokens ?? false,
  } satisfies AccessPolicy);

/** A signed-in administrator, by browser session. */
export const AdminOnly = () =>
  SetMetadata(ACCESS_POLICY, { access: 'admin' } satisfies AccessPolicy);

/**
 * A signed-in user with at least `role` on the project named by route parameter `param`
 * (default `name`). The project and role land on `req.project` (`@CurrentProject()`).
 * A project-scoped token must name that project. Needs a {@link ProjectRoleResolver}.
 */
export const ProjectRole = (
  role: ProjectRoleName,
  options: { param?: string; tokens?: boolean } = {},
) =>
  SetMetadata(ACCESS_POLICY, {
    access: 'project-role',
    role,
    param: options.param ?? 'name',
    tokens: options.tokens ?? false,
  } satisfies AccessPolicy);

/**
 * Skips the CSRF check on an unsafe method. Only for endpoints no browser form posts to with
 * cookies (e.g. twine's upload, which authenticates with a token in each request anyway).
 */
export const CsrfExempt = () => SetMetadata(CSRF_EXEMPT, true);

function request(ctx: ExecutionContext): Request {
  return ctx.switchToHttp().getRequest<Request>();
}

/** How the request authenticated (`anonymous`, `session` or `token`). */
export const CurrentAuth = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): RequestAuth => request(ctx).auth ?? { kind: 'anonymous' },
);

/** The signed-in user; `undefined` on public routes when nobody is. */
export const CurrentUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): User | undefined => {
    const auth = request(ctx).auth;
    return auth && auth.kind !== 'anonymous' ? auth.user : undefined;
  },
);

/** The browser session, on session-authenticated requests. */
export const CurrentSession = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Session | undefined => {
    const auth = request(ctx).auth;
    return auth?.kind === 'session' ? auth.session : undefined;
  },
);

/** The API token, on token-authenticated requests. */
export const CurrentToken = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): ApiToken | undefined => {
    const auth = request(ctx).auth;
    return auth?.kind === 'token' ? auth.token : undefined;
  },
);

/** The project a `@ProjectRole` route resolved, with the user's role on it. */
export const CurrentProject = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): ResolvedProject | undefined => request(ctx).project,
);
