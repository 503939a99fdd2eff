import { PLUGIN_API_VERSION } from '../plugin-api/version.js';
import type { PluginSet } from './plugin-loader.js';

export interface PluginDescription {
  name: string;
  version: string;
  api: string;
  source: string;
  hooks: string[];
  tabs: string[];
  auditTags: string[];
  entities: string[];
  options: string[];
}

/** What `larder plugins list` reports, from the loaded manifests and their `@OnHook`s. */
export function describePlugins(set: PluginSet): {
  pluginApi: string;
  loaded: PluginDescription[];
  failed: PluginSet['failed'];
} {
  return {
    pluginApi: PLUGIN_API_VERSION,
    loaded: set.loaded.map(({ manifest, source, spec, hooks, options }) => ({
      name: manifest.name,
      version: manifest.version,
      api: manifest.api,
      source: source === 'first-party' ? `plugins/${spec}` : spec,
      hooks: hooks
        .map((h) => `${h.hook} (${h.phase}${h.order ? `, order ${h.order}` : ''})`)
        .sort(),
      tabs: (manifest.tabs ?? []).map((t) => `${t.page}/${t.id} "${t.title}" ${t.path}`),
      auditTags: (manifest.auditTags ?? []).map((t) => t.tag),
      entities: (manifest.entities ?? []).map((e) => e.name),
      options: options ? Object.keys(options) : [],
    })),
    failed: set.failed,
  };
}

export function formatPluginList(list: ReturnType<typeof describePlugins>): string {
  const lines = [`Plugin API ${list.pluginApi}`];
  if (list.loaded.length === 0) lines.push('No plugins loaded (LARDER_PLUGINS).');
  const items = (values: string[]) => (values.length ? values.join(', ') : '-');
  for (const p of list.loaded) {
    lines.push(
      '',
      `${p.name} ${p.version}  (api ${p.api}, from ${p.source})`,
      `  hooks:      ${items(p.hooks)}`,
      `  tabs:       ${items(p.tabs)}`,
      `  audit tags: ${items(p.auditTags)}`,
    );
  }
  for (const f of list.failed) lines.push('', `NOT LOADED: ${f.message}`);
  return lines.join('\n');
}
