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
import { finishApp, setupApp } from './web/setup-app.js';

export interface RunningApp {
  app: NestExpressApplication;
  database: DatabaseTarget;
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
 * Boot order (DESIGN.md §2): config (already loaded) → database → migrations → Nest app.
 * Returns an initialised app that is not yet listening.
 */
export async function createApp(
  config: Config,
  logger: Logger,
  schema: Schema = coreSchema,
): Promise<RunningApp> {
  const database = await openDatabase(config);
  try {
    const { dataSource } = await connectAndMigrate(database, schema, logger);
    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot({ config, dataSource, logger }),
      { logger: new PinoNestLogger(logger), bufferLogs: false },
    );
    setupApp(app, config);
    await app.init();
    finishApp(app);
    return {
      app,
      database,
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
