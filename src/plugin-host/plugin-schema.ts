import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { Schema } from '../database/data-source.js';
import type { PluginSet } from './plugin-loader.js';
import { PluginLoadError } from './plugin-load.error.js';

type MigrationClass = new () => MigrationInterface;

/**
 * The migration as TypeORM sees it (same name, same SQL), but a failure names the plugin, so
 * a broken plugin migration stops the boot with `plugin <name>: migration … failed: …`.
 */
function attributed(plugin: string, migration: Function): Function {
  const Base = migration as MigrationClass;
  const wrapped = class extends Base {
    async up(queryRunner: QueryRunner): Promise<void> {
      try {
        await super.up(queryRunner);
      } catch (error) {
        throw new PluginLoadError(
          plugin,
          `migration ${Base.name} failed: ${(error as Error).message}`,
        );
      }
    }
  };
  // TypeORM records a migration by its `name` property or, failing that, its class name.
  Object.defineProperty(wrapped, 'name', { value: Base.name });
  return wrapped;
}

/** The core's schema plus the loaded plugins' entities and migrations (one data source). */
export function schemaWithPlugins(base: Schema, set: PluginSet): Schema {
  const list = (value: Schema['entities']): Function[] =>
    Array.isArray(value) ? value : Object.values(value as Record<string, Function>);
  return {
    entities: [...list(base.entities), ...set.loaded.flatMap((p) => p.manifest.entities ?? [])],
    migrations: [
      ...list(base.migrations),
      ...set.loaded.flatMap((p) =>
        (p.manifest.migrations ?? []).map((m) => attributed(p.manifest.name, m)),
      ),
    ],
  };
}
