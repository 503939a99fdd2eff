import { randomBytes } from 'node:crypto';
import { KeyRing } from '../key-ring.js';

/** The anonymous visitor's CSRF cookie: binds the sign-in and register forms to one browser. */
export const CSRF_COOKIE = 'larder_csrf';
export const CSRF_FIELD = 'csrf_token';
export const CSRF_HEADER = 'x-csrf-token';

export function newCsrfCookie(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * Synchronizer token: a MAC of the session id (signed in) or of the browser's CSRF cookie
 * (signed out). A page from another site cannot read it, so it cannot post our forms.
 */
export function csrfTokenFor(
  keys: KeyRing,
  binding: { sessionId?: string; cookie?: string },
): string {
  const subject = binding.sessionId
    ? `session:${binding.sessionId}`
    : `anonymous:${binding.cookie}`;
  return keys.hash('csrf', subject);
}

export function csrfValid(
  keys: KeyRing,
  given: unknown,
  binding: { sessionId?: string; cookie?: string },
): boolean {
  if (typeof given !== 'string' || !/^[0-9a-f]{64}$/.test(given)) return false;
  if (!binding.sessionId && !binding.cookie) return false;
  return KeyRing.sameDigest(given, csrfTokenFor(keys, binding));
}
