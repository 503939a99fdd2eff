import type { AuditTagDefinition } from '../../src/plugin-api/index.js';

/**
 * The core's audit catalogue, as in audit-tags.md: each tag, where it shows, the keys of
 * `additional` it carries, and its one description template (`{key}` is a value of
 * `additional`). Every page renders from here (audit.renderer.ts). Registered with the
 * AuditTagRegistry under the owner `core` when the plugin starts.
 */
const A = ['account'] as AuditTagDefinition['showsIn'];
const P = ['project'] as AuditTagDefinition['showsIn'];
const ADMIN = ['admin'] as AuditTagDefinition['showsIn'];

const t = (
  tag: string,
  showsIn: AuditTagDefinition['showsIn'],
  additional: string[],
  description: string,
): AuditTagDefinition => ({ tag, showsIn, additional, description });

export const CORE_CATALOGUE: AuditTagDefinition[] = [
  // Account
  t('account:create', A, ['email'], 'Account created with e-mail {email}'),
  t(
    'account:login:success',
    A,
    ['two_factor_method'],
    'Logged in (two-factor: {two_factor_method})',
  ),
  t('account:login:failure', A, ['reason', 'username_attempted'], 'Login failed: {reason}'),
  t('account:logout', A, [], 'Logged out'),
  t('account:reauthenticate:failure', A, ['reason'], 'Re-authentication failed: {reason}'),
  t('account:password:change', A, [], 'Password changed'),
  t('account:password:reset:request', A, [], 'Password reset requested'),
  t('account:password:reset', A, [], 'Password reset'),
  t('account:email:add', A, ['email'], 'E-mail {email} added'),
  t('account:email:remove', A, ['email'], 'E-mail {email} removed'),
  t('account:email:verified', A, ['email', 'primary'], 'E-mail {email} verified'),
  t(
    'account:email:primary:change',
    A,
    ['old_primary', 'new_primary'],
    'Primary e-mail changed from {old_primary} to {new_primary}',
  ),
  t('account:two_factor:method_added', A, ['method'], 'Two-factor method added: {method}'),
  t('account:two_factor:method_removed', A, ['method'], 'Two-factor method removed: {method}'),
  t('account:recovery_codes:generated', A, [], 'Recovery codes generated'),
  t('account:recovery_codes:regenerated', A, [], 'Recovery codes regenerated'),
  t('account:recovery_codes:used', A, [], 'Recovery code used'),
  t(
    'account:api_token:added',
    A,
    ['description', 'scope', 'expires', 'token_id'],
    'API token {description} added (scope: {scope}, expires: {expires})',
  ),
  t(
    'account:api_token:removed',
    A,
    ['description', 'token_id', 'reason'],
    'API token {description} removed ({reason})',
  ),
  t(
    'account:role:invite',
    A,
    ['project_name', 'role_name', 'submitted_by'],
    'Invited to project {project_name} as {role_name} by {submitted_by}',
  ),
  t(
    'account:role:add',
    A,
    ['project_name', 'role_name', 'submitted_by'],
    'Added to project {project_name} as {role_name} by {submitted_by}',
  ),
  t(
    'account:role:change',
    A,
    ['project_name', 'role_name', 'previous_role_name', 'submitted_by'],
    'Role on project {project_name} changed from {previous_role_name} to {role_name} by {submitted_by}',
  ),
  t(
    'account:role:remove',
    A,
    ['project_name', 'role_name', 'submitted_by'],
    'Removed from project {project_name} ({role_name}) by {submitted_by}',
  ),
  t(
    'account:role:decline_invite',
    A,
    ['project_name', 'role_name'],
    'Invitation to project {project_name} as {role_name} declined',
  ),
  t(
    'account:role:revoke_invite',
    A,
    ['project_name', 'role_name', 'submitted_by'],
    'Invitation to project {project_name} as {role_name} revoked by {submitted_by}',
  ),

  // Project and files
  t('project:create', P, ['created_by'], 'Project created by {created_by}'),
  t('project:delete', P, ['deleted_by'], 'Project deleted by {deleted_by}'),
  t(
    'project:release:add',
    P,
    ['version', 'canonical_version', 'submitted_by'],
    'Release {version} created by {submitted_by}',
  ),
  t(
    'project:release:remove',
    P,
    ['version', 'submitted_by'],
    'Release {version} removed by {submitted_by}',
  ),
  t(
    'project:release:yank',
    P,
    ['version', 'yanked_reason', 'submitted_by'],
    'Release {version} yanked by {submitted_by} (reason: {yanked_reason})',
  ),
  t(
    'project:release:unyank',
    P,
    ['version', 'submitted_by'],
    'Release {version} un-yanked by {submitted_by}',
  ),
  t(
    'project:role:invite',
    P,
    ['target_user', 'role_name', 'submitted_by'],
    'Collaborator {target_user} invited as {role_name} by {submitted_by}',
  ),
  t(
    'project:role:add',
    P,
    ['target_user', 'role_name', 'submitted_by'],
    'Collaborator {target_user} added as {role_name} by {submitted_by}',
  ),
  t(
    'project:role:change',
    P,
    ['target_user', 'role_name', 'previous_role_name', 'submitted_by'],
    'Collaborator {target_user} changed from {previous_role_name} to {role_name} by {submitted_by}',
  ),
  t(
    'project:role:remove',
    P,
    ['target_user', 'role_name', 'submitted_by'],
    'Collaborator {target_user} ({role_name}) removed by {submitted_by}',
  ),
  t(
    'project:role:revoke_invite',
    P,
    ['target_user', 'role_name', 'submitted_by'],
    'Invitation of {target_user} as {role_name} revoked by {submitted_by}',
  ),
  t(
    'project:role:decline_invite',
    P,
    ['target_user', 'role_name'],
    'Invitation of {target_user} as {role_name} declined',
  ),
  t(
    'project:api_token:added',
    P,
    ['description', 'user'],
    'Project API token {description} added by {user}',
  ),
  t(
    'project:api_token:removed',
    P,
    ['description', 'user'],
    'Project API token {description} of {user} removed',
  ),
  t(
    'file:add',
    P,
    ['filename', 'version', 'sha256', 'size', 'submitted_by'],
    'File {filename} uploaded to release {version} by {submitted_by}',
  ),
  t(
    'file:remove',
    P,
    ['filename', 'version', 'submitted_by'],
    'File {filename} removed from release {version} by {submitted_by}',
  ),
  t(
    'project:upload:rejected',
    P,
    ['filename', 'reason', 'message', 'plugin'],
    'Upload of {filename} rejected: {reason} ({message})',
  ),

  // Administration
  t(
    'admin:user:create',
    A,
    ['username', 'admin'],
    'Account {username} created by an administrator',
  ),
  t('admin:user:disable', A, ['reason'], 'Account disabled by an administrator (reason: {reason})'),
  t('admin:user:enable', A, ['reason'], 'Account enabled by an administrator'),
  t('admin:user:grant_admin', A, [], 'Administrator rights granted'),
  t('admin:user:revoke_admin', A, [], 'Administrator rights revoked'),
  t(
    'admin:audit:export',
    ADMIN,
    ['format', 'filters', 'rows'],
    'Audit log exported as {format} ({rows} rows)',
  ),
  t(
    'admin:audit:prune',
    ADMIN,
    ['before', 'rows'],
    'Audit log pruned before {before} ({rows} rows)',
  ),

  // Optional, off by default
  t('file:download', P, ['filename', 'version'], 'File {filename} of release {version} downloaded'),
];

/** The audit plugin's own tags (prefixed with its name, as plugin tags must be). */
export const AUDIT_PLUGIN_TAGS: AuditTagDefinition[] = [
  t(
    'audit:unmapped:change',
    ADMIN,
    ['table', 'operation', 'columns', 'problem'],
    'Unattributed change to {table} ({operation}): {problem}',
  ),
  t(
    'audit:checkpoint:signed',
    ADMIN,
    [
      'checkpoint_id',
      'kind',
      'head_id',
      'head_sha256',
      'signed_at',
      'signature',
      'key_fingerprint',
    ],
    'Audit {kind} {checkpoint_id} signed at event {head_id} (key {key_fingerprint})',
  ),
];

/**
 * Plain words for the coded values `additional` carries (reasons, methods), so "Login failed:
 * invalid_totp" reads "Login failed: wrong two-factor code". Values not listed show as given.
 */
export const VALUE_WORDS: Record<string, Record<string, string>> = {
  reason: {
    invalid_password: 'wrong password',
    invalid_totp: 'wrong two-factor code',
    invalid_recovery_code: 'wrong recovery code',
    burned_recovery_code: 'recovery code already used',
    disabled_account: 'account disabled',
    unknown_user: 'unknown username',
    user: 'by its owner',
    admin: 'by an administrator',
    expired: 'expired',
    invalid_credentials: 'missing or invalid credentials',
    no_permission: 'no permission to upload to this project',
    file_exists: 'the file exists with other contents',
    invalid_file: 'invalid upload',
    vetoed: 'refused by a plugin',
  },
  two_factor_method: { none: 'none', totp: 'authentication app', 'recovery-code': 'recovery code' },
  method: { totp: 'authentication app (TOTP)' },
  scope: { user: 'entire account' },
};
