import type { Session } from '../sessions/session.entity.js';
import type { ApiToken } from '../tokens/api-token.entity.js';
import type { User } from '../users/user.entity.js';

/** How the current request authenticated; `req.auth`, read through `@CurrentAuth()`. */
export type RequestAuth =
  | { kind: 'anonymous' }
  | { kind: 'session'; user: User; session: Session }
  | { kind: 'token'; user: User; token: ApiToken };

/** PyPI's two roles, lowest first. */
export const PROJECT_ROLES = ['Maintainer', 'Owner'] as const;
export type ProjectRoleName = (typeof PROJECT_ROLES)[number];

export function roleAtLeast(role: ProjectRoleName | null, minimum: ProjectRoleName): boolean {
  return role !== null && PROJECT_ROLES.indexOf(role) >= PROJECT_ROLES.indexOf(minimum);
}

/** What a project-role check found, stored on `req.project` for the handler. */
export interface ResolvedProject {
  project: { id: string; name: string; normalizedName: string };
  /** The signed-in user's role on it, `null` when none. */
  role: ProjectRoleName | null;
}

/**
 * Implemented by the projects feature (issue 4) and provided under {@link PROJECT_ROLE_RESOLVER}:
 * finds the project named in a route and the user's role on it. `null` → 404.
 */
export interface ProjectRoleResolver {
  resolve(projectName: string, userId: string): Promise<ResolvedProject | null>;
}

export const PROJECT_ROLE_RESOLVER = Symbol('larder.project-role-resolver');

declare module 'express-serve-static-core' {
  interface Request {
    auth?: RequestAuth;
    project?: ResolvedProject;
  }
}
