import type { Actor, RequestContext } from '../context/request-context.js';

/**
 * The lifecycle hooks (DESIGN.md §4), one typed map so handlers and emitters agree on payloads.
 * Versioned with the plugin API: adding a hook is a minor change, changing a payload is major.
 * Payloads name the entities involved by id and name — never a secret.
 */
export interface UserRef {
  id: string;
  username: string;
}
export interface ProjectRef {
  id: string;
  name: string;
  normalizedName: string;
}
export interface TokenRef {
  id: string;
  name: string;
  /** `null`: the whole account; otherwise the project names it is limited to. */
  projects: string[] | null;
  expiresAt: Date | null;
}
export interface ReleaseRef {
  id: string;
  version: string;
  canonicalVersion: string;
}
export interface FileRef {
  id?: string;
  filename: string;
  size: number;
  sha256?: string;
  packagetype?: string;
}

/** Why an upload was refused: credentials, permission, a file that exists, bad input, a veto. */
export type UploadRejection =
  'invalid_credentials' | 'no_permission' | 'file_exists' | 'invalid_file' | 'vetoed';

export interface HookMap {
  'account.created': { user: UserRef; email: string | null; byAdmin: boolean };
  'account.login': {
    user: UserRef | null;
    usernameAttempted: string;
    outcome: 'success' | 'failure';
    method: 'password' | 'totp' | 'recovery-code';
    reason?: string;
  };
  'account.logout': { user: UserRef };
  /** The password asked again before a sensitive change (only failures are audited). */
  'account.reauthenticated': {
    user: UserRef;
    outcome: 'success' | 'failure';
    reason?: string;
  };
  'account.password.changed': { user: UserRef };
  /** A reset link was sent; nothing changes until it is used. */
  'account.password.reset-requested': { user: UserRef };
  'account.password.reset': { user: UserRef };
  'account.email.added': { user: UserRef; email: string };
  'account.email.removed': { user: UserRef; email: string };
  'account.email.verified': { user: UserRef; email: string; primary: boolean };
  'account.email.primary-changed': { user: UserRef; oldPrimary: string | null; newPrimary: string };
  'account.2fa.added': { user: UserRef; method: 'totp' };
  'account.2fa.removed': { user: UserRef; method: 'totp' };
  'account.recovery-codes.generated': { user: UserRef; regenerated: boolean };
  'account.recovery-codes.used': { user: UserRef };
  'account.disabled': { user: UserRef; disabled: boolean; reason?: string };
  'account.admin-changed': { user: UserRef; isAdmin: boolean };
  'token.created': { user: UserRef; token: TokenRef };
  'token.revoked': { user: UserRef; token: TokenRef; reason: 'user' | 'admin' | 'expired' };
  'project.created': { project: ProjectRef; owner: UserRef };
  'project.deleted': { project: ProjectRef };
  'role.invited': { project: ProjectRef; user: UserRef; role: string };
  'role.invite-revoked': { project: ProjectRef; user: UserRef; role: string };
  'role.invite-declined': { project: ProjectRef; user: UserRef; role: string };
  'role.added': { project: ProjectRef; user: UserRef; role: string };
  'role.changed': { project: ProjectRef; user: UserRef; role: string; previousRole: string };
  'role.removed': { project: ProjectRef; user: UserRef; role: string };
  'release.created': { project: ProjectRef; release: ReleaseRef };
  'release.yanked': { project: ProjectRef; release: ReleaseRef; reason: string | null };
  'release.unyanked': { project: ProjectRef; release: ReleaseRef };
  'release.deleted': { project: ProjectRef; release: ReleaseRef };
  /** Before the bytes are accepted: the one hook an upload policy vetoes. */
  'file.uploading': {
    project: ProjectRef | null;
    projectName: string;
    version: string;
    file: FileRef;
  };
  'file.uploaded': { project: ProjectRef; release: ReleaseRef; file: FileRef };
  /**
   * The upload API refused an upload (after phase only; emitted with the answer, which it does
   * not change). What is known by then: the project (when it exists), the name the form gave,
   * the filename. `message` is what the client was told; `plugin` names a vetoing plugin.
   */
  'file.upload.rejected': {
    project: ProjectRef | null;
    projectName: string | null;
    filename: string | null;
    reason: UploadRejection;
    message: string;
    status: number;
    plugin: string | null;
  };
  'file.deleted': { project: ProjectRef; release: ReleaseRef; file: FileRef };
  /** Optional and high volume: emitted only when a plugin subscribes. */
  'file.downloaded': { project: ProjectRef; file: FileRef };
}

export type HookName = keyof HookMap;

/**
 * What a handler receives: the action's own payload plus who did it and from where. For a
 * union of hooks it is a union discriminated by `hook`, so one handler can serve several.
 */
export type HookEvent<K extends HookName> = K extends HookName
  ? HookMap[K] & {
      hook: K;
      actor: Actor;
      context: Readonly<RequestContext>;
    }
  : never;
