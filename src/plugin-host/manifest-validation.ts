import semver from 'semver';
import { PLUGIN_API_VERSION } from '../plugin-api/version.js';
import type { PluginManifest } from './plugin-manifest.js';
import { PluginLoadError } from './plugin-load.error.js';

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const TAG = /^[a-z0-9_]+(:[a-z0-9_]+){1,4}$/;
const PAGES = ['account', 'project', 'admin'];
const PERMISSIONS = ['signed-in', 'admin', 'project-owner', 'project-maintainer'];
const HISTORIES = ['account', 'project', 'admin'];
/** Sources of the core catalogue (audit-tags.md): a plugin's tags must not pose as the core's. */
const CORE_TAG_SOURCES = ['account', 'project', 'file', 'admin'];

const isClass = (value: unknown): value is Function => typeof value === 'function';

/**
 * Checks a manifest's shape (DESIGN.md §5) and its `api` range against this core's plugin API
 * version. Throws a {@link PluginLoadError} whose message says what to fix.
 */
export function validateManifest(candidate: unknown, label: string): PluginManifest {
  if (typeof candidate !== 'object' || candidate === null) {
    throw new PluginLoadError(
      label,
      'exports no manifest (expected `export default definePlugin({ … })`)',
    );
  }
  const m = candidate as Record<string, unknown>;
  const name = typeof m.name === 'string' && NAME.test(m.name) ? m.name : undefined;
  const fail = (problem: string): never => {
    throw new PluginLoadError(name ?? label, problem);
  };
  if (!name)
    fail('manifest `name` must be lower-case letters, digits and dashes, starting with a letter');
  if (typeof m.version !== 'string' || !semver.valid(m.version)) {
    fail(`manifest \`version\` must be a semver version, got ${JSON.stringify(m.version)}`);
  }
  if (typeof m.api !== 'string' || !semver.validRange(m.api)) {
    fail(`manifest \`api\` must be a semver range such as "^1.0.0", got ${JSON.stringify(m.api)}`);
  }
  if (!semver.satisfies(PLUGIN_API_VERSION, m.api as string)) {
    fail(
      `was written for plugin API ${m.api}, but this Larder provides plugin API ${PLUGIN_API_VERSION}; ` +
        `install a version of the plugin made for ${PLUGIN_API_VERSION}`,
    );
  }
  if (m.module !== undefined && !isClass(m.module))
    fail('manifest `module` must be a Nest module class');
  for (const field of ['entities', 'migrations'] as const) {
    const list = m[field];
    if (list !== undefined && (!Array.isArray(list) || !list.every(isClass))) {
      fail(`manifest \`${field}\` must be a list of classes`);
    }
  }
  if (Array.isArray(m.migrations)) {
    for (const migration of m.migrations as Function[]) {
      // TypeORM orders all migrations, core and plugins, by this timestamp.
      if (!/\d{13}$/.test(migration.name)) {
        fail(`migration ${migration.name} must end with a 13-digit timestamp (as generated)`);
      }
    }
  }
  if (m.options !== undefined && !isClass(m.options)) fail('manifest `options` must be a class');
  if (m.commands !== undefined && typeof m.commands !== 'function')
    fail('manifest `commands` must be a function receiving the command group');
  if (m.tabs !== undefined) {
    if (!Array.isArray(m.tabs)) fail('manifest `tabs` must be a list');
    for (const tab of m.tabs as Record<string, unknown>[]) {
      const id = typeof tab?.id === 'string' && /^[a-z0-9-]+$/.test(tab.id) ? tab.id : undefined;
      if (!id) fail('each tab needs an `id` of lower-case letters, digits and dashes');
      if (!PAGES.includes(tab.page as string))
        fail(`tab ${id}: \`page\` must be one of ${PAGES.join(', ')}`);
      if (typeof tab.title !== 'string' || !tab.title.trim())
        fail(`tab ${id}: \`title\` is required`);
      if (typeof tab.path !== 'string' || !tab.path.startsWith('/'))
        fail(`tab ${id}: \`path\` must start with /`);
      const permission = tab.permission;
      if (
        permission !== undefined &&
        typeof permission !== 'function' &&
        !PERMISSIONS.includes(permission as string)
      ) {
        fail(`tab ${id}: \`permission\` must be one of ${PERMISSIONS.join(', ')} or a function`);
      }
      if (tab.order !== undefined && typeof tab.order !== 'number')
        fail(`tab ${id}: \`order\` must be a number`);
    }
  }
  if (m.auditTags !== undefined) {
    if (!Array.isArray(m.auditTags)) fail('manifest `auditTags` must be a list');
    for (const def of m.auditTags as Record<string, unknown>[]) {
      const tag = typeof def?.tag === 'string' && TAG.test(def.tag) ? def.tag : undefined;
      if (!tag) fail(`audit tag ${JSON.stringify(def?.tag)} must look like source:subject:action`);
      if (CORE_TAG_SOURCES.includes(tag!.split(':')[0])) {
        fail(
          `audit tag ${tag} uses a core source (${CORE_TAG_SOURCES.join(', ')}); prefix it with the plugin's own`,
        );
      }
      if (
        !Array.isArray(def.showsIn) ||
        !def.showsIn.every((h) => HISTORIES.includes(h as string))
      ) {
        fail(`audit tag ${tag}: \`showsIn\` must list some of ${HISTORIES.join(', ')}`);
      }
      if (!Array.isArray(def.additional) || !def.additional.every((k) => typeof k === 'string')) {
        fail(`audit tag ${tag}: \`additional\` must list the keys it records`);
      }
      if (typeof def.description !== 'string' || !def.description.trim()) {
        fail(`audit tag ${tag}: \`description\` is required`);
      }
    }
  }
  return candidate as PluginManifest;
}
