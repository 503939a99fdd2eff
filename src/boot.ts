import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { AppModule } from './app.module.js';
import type { Config } from './config/config.js';
import { runAsSystem } from './context/request-context.js';
import { coreSchema, createDataSource, type Schema } from './database/data-source.js';
import { openDatabase, type DatabaseTarget } from './database/database-target.js';
import { runMigrations } from './database/migrator.js';
import { PinoNestLogger } from './ops/logger.js';
import { loadPlugins, type PluginSet } from './plugin-host/plugin-loader.js';
import { schemaWithPlugins } from './plugin-host/plugin-schema.js';
import { finishApp, setupApp } from './web/setup-app.js';

export interface RunningApp {
  app: NestExpressApplication;
  database: DatabaseTarget;
  plugins: PluginSet;
  /** Stops accepting, lets in-flight requests finish, then closes the database. */
  close(): Promise<void>;
}

/** Connects and migrates under the advisory lock, as the system actor. */
export async function connectAndMigrate(
  database: DatabaseTarget,
  schema: Schema,
  logger: Logger,
): Promise<{ dataSource: DataSource; applied: string[] }> {
  const dataSource = createDataSource(database, schema);
  await dataSource.initialize();
  try {
    const applied = await runAsSystem('migrate', () => runMigrations(dataSource));
    for (const name of applied) logger.info({ migration: name }, 'migration applied');
    return { dataSource, applied };
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
}

/**
 * Loads the plugins LARDER_PLUGINS names and returns them with the schema they extend: the
 * data source, the migrations and the app all need both.
 */
export async function preparePlugins(
  config: Config,
  logger: Logger,
  baseSchema: Schema = coreSchema,
): Promise<{ plugins: PluginSet; schema: Schema }> {
  const plugins = await loadPlugins(config, logger);
  return { plugins, schema: schemaWithPlugins(baseSchema, plugins) };
}

/**
 * Boot order (DESIGN.md §2): config (already loaded) → plugins → database → migrations (core
 * and plugins') → Nest app. Returns an initialised app that is not yet listening.
 */
export async function createApp(
  config: Config,
  logger: Logger,
  baseSchema: Schema = coreSchema,
): Promise<RunningApp> {
  // Before the database opens: a plugin refused in strict mode costs no database start.
  const { plugins, schema } = await preparePlugins(config, logger, baseSchema);
  const database = await openDatabase(config);
  try {
    const { dataSource } = await connectAndMigrate(database, schema, logger);
    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot({ config, dataSource, logger, plugins }),
      { logger: new PinoNestLogger(logger), bufferLogs: false },
    );
    setupApp(app, config);
    await app.init();
    finishApp(app);
    return {
      app,
      database,
      plugins,
      async close() {
        await app.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
