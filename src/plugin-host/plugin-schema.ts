import type { Schema } from '../database/data-source.js';
import type { PluginSet } from './plugin-loader.js';

/** The core's schema plus the loaded plugins' entities and migrations (one data source). */
export function schemaWithPlugins(base: Schema, set: PluginSet): Schema {
  const list = (value: Schema['entities']): Function[] =>
    Array.isArray(value) ? value : Object.values(value as Record<string, Function>);
  return {
    entities: [...list(base.entities), ...set.loaded.flatMap((p) => p.manifest.entities ?? [])],
    migrations: [
      ...list(base.migrations),
      ...set.loaded.flatMap((p) => p.manifest.migrations ?? []),
    ],
  };
}
