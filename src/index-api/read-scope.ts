import type { RequestAuth } from '../accounts/auth/auth.types.js';
import type { Config } from '../config/config.js';

/**
 * The projects a reader may see: `null` for all. Only a private index
 * (LARDER_READ_ACCESS=authenticated) limits reads, and then a project-scoped token reads only
 * its projects; on a public index anyone may read everything anyway.
 */
export function readableProjects(config: Config, auth: RequestAuth | undefined): string[] | null {
  if (config.readAccess === 'public') return null;
  if (auth?.kind === 'token' && auth.token.projects !== null) return auth.token.projects;
  return null;
}

export function mayRead(
  config: Config,
  auth: RequestAuth | undefined,
  normalizedName: string,
): boolean {
  const scope = readableProjects(config, auth);
  return scope === null || scope.includes(normalizedName);
}

/** Cache-Control for reads: shared caches may keep public pages, never private ones. */
export function cacheScope(config: Config): 'public' | 'private' {
  return config.readAccess === 'public' ? 'public' : 'private';
}
