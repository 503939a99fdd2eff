/**
 * The plugin API: the one module a plugin imports (DESIGN.md §5, docs/plugins.md). Everything
 * a plugin needs from the core is exported here, and its shape is versioned by
 * {@link PLUGIN_API_VERSION}: adding an export or a hook is minor, changing one is major.
 */
export { PLUGIN_API_VERSION } from './version.js';

// Manifest
export {
  definePlugin,
  type AuditHistory,
  type AuditTagDefinition,
  type PluginManifest,
  type PluginTab,
} from '../plugin-host/plugin-manifest.js';
export { PluginContext } from '../plugin-host/plugin-context.js';
export type { PluginCli } from '../plugin-host/plugin-cli.js';

// Hooks (DESIGN.md §4)
export type {
  FileRef,
  HookEvent,
  HookMap,
  HookName,
  ProjectRef,
  ReleaseRef,
  TokenRef,
  UploadRejection,
  UserRef,
} from '../hooks/hook-map.js';
export { HookVeto, HookVetoError } from '../hooks/hook-veto.js';
export { OnHook, type OnHookOptions } from '../hooks/on-hook.decorator.js';
/** For emitting a plugin's own actions through the bus (`perform`), rarely needed. */
export { HookBus, type HookPhase } from '../hooks/hook-bus.js';

// Pages and tabs
export { TabPage } from '../web/tab-page.js';
export type { TabPermission, TabSet, TabViewer } from '../web/tabs.js';
export type { PageOptions } from '../web/page-renderer.js';

// Audit catalogue and recording (implemented by the audit plugin when loaded)
export {
  AuditRecorder,
  AuditTagRegistry,
  type AuditEventInput,
  type AuditSink,
} from '../plugin-host/audit-extension.js';

// The core's accounts and projects, read-only
export { ACCOUNT_DIRECTORY, type AccountDirectory } from '../plugin-host/directories.js';
export {
  PROJECT_ROLE_RESOLVER,
  type ProjectRoleName,
  type ProjectRoleResolver,
  type RequestAuth,
  type ResolvedProject,
} from '../accounts/auth/auth.types.js';

// Access policies: every route declares one (the core's guard refuses routes without)
export {
  AdminOnly,
  CsrfExempt,
  CurrentAuth,
  CurrentUser,
  ProjectRole,
  Public,
  ReadAccess,
  SignedIn,
} from '../accounts/auth/auth.decorators.js';

// Request context: who acts, from where
export {
  maybeRequestContext,
  requestContext,
  runAsSystem,
  type Actor,
  type RequestContext,
} from '../context/request-context.js';

// Database: a statement sent with its transaction's COMMIT
export { runAtCommit, type InlineValue } from '../database/commit-statement.js';

// Configuration and logging
export { CONFIG } from '../config/config.module.js';
export type { Config } from '../config/config.js';
export { LOGGER } from '../ops/ops.tokens.js';
export type { Logger } from 'pino';
