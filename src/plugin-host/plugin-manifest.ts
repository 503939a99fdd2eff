import type { Type } from '@nestjs/common';
import type { PluginCli } from './plugin-cli.js';
import type { TabPermission, TabSet } from '../web/tabs.js';

/** A tab a plugin adds to the account, project or admin pages (DESIGN.md §5). */
export interface PluginTab {
  page: TabSet;
  /** Unique within the page's tab set. */
  id: string;
  title: string;
  /** Where the tab links; on project pages `:project` becomes the project's normalised name. */
  path: string;
  /** Who sees the tab (and may open its page, with `@TabPage`). Default: signed-in users. */
  permission?: TabPermission;
  /** Lower comes first; core tabs use multiples of 10, default 100. */
  order?: number;
}

/** Where an audit event shows (audit-tags.md): the account's history, the project's, or admin only. */
export type AuditHistory = 'account' | 'project' | 'admin';

/** One audit event type, with the same four columns as the core catalogue (audit-tags.md). */
export interface AuditTagDefinition {
  /** `source:subject:action`, prefixed by the plugin, e.g. `notify:email:sent`. */
  tag: string;
  showsIn: AuditHistory[];
  /** The keys of `additional` this event carries; never a secret. */
  additional: string[];
  /** Plain words, with `{key}` for values of `additional`: `Notification e-mailed to {to}`. */
  description: string;
}

/**
 * What a plugin exports (as its default export, or as `plugin`). Build it with
 * {@link definePlugin} so the compiler checks it.
 */
export interface PluginManifest<Options extends object = object> {
  /** Lower-case letters, digits and dashes; names its options (`LARDER_PLUGIN_<NAME>_…`). */
  name: string;
  /** The plugin's own version (semver). */
  version: string;
  /** The plugin API range it was written for, e.g. `^1.0.0`. */
  api: string;
  description?: string;
  /** A Nest module; its providers may carry `@OnHook` handlers, its controllers add routes. */
  module?: Type<unknown>;
  /** TypeORM entity classes: they join the app's data source. */
  entities?: Function[];
  /** Migration classes (`<Name><13-digit timestamp>`), run with the core's, in timestamp order. */
  migrations?: Function[];
  /** A class-validator class; each property is read from `LARDER_PLUGIN_<NAME>_<PROPERTY>`. */
  options?: new () => Options;
  tabs?: PluginTab[];
  auditTags?: AuditTagDefinition[];
  /** Adds subcommands to `larder <name> …`, the plugin's command group (DESIGN.md §7). */
  commands?: (cli: PluginCli) => void;
}

/** Identity function that types a manifest: `export default definePlugin({ … })`. */
export function definePlugin<Options extends object = object>(
  manifest: PluginManifest<Options>,
): PluginManifest<Options> {
  return manifest;
}
