import type { UserRef } from '../../hooks/hook-map.js';

/** How hooks and the audit log name an account: id and username, nothing else. */
export function userRef(user: { id: string; username: string }): UserRef {
  return { id: user.id, username: user.username };
}
