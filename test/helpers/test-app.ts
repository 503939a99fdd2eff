import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { ModuleMetadata } from '@nestjs/common';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { DestinationStream } from 'pino';
import type { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module.js';
import { connectAndMigrate } from '../../src/boot.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { coreSchema, type Schema } from '../../src/database/data-source.js';
import { createLogger } from '../../src/ops/logger.js';
import { finishApp, setupApp } from '../../src/web/setup-app.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface TestApp {
  app: NestExpressApplication;
  config: Config;
  dataSource: DataSource;
  db: TestDatabase;
  /** supertest bound to the app's HTTP server. */
  http(): ReturnType<typeof request>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Extra environment, as an operator would set it (`LARDER_REGISTRATION: 'open'`). */
  env?: Record<string, string>;
  schema?: Schema;
  /** Extra modules, e.g. a test-only controller that exercises an extension point. */
  imports?: ModuleMetadata['imports'];
  /** Where log lines go (default stderr); set `LARDER_LOG_LEVEL` in `env` to see them. */
  logDestination?: DestinationStream;
}

/**
 * Boots the real app module, with the production pipeline, on a fresh database (embedded or
 * the DATABASE_URL server) and a temporary data dir. Migrations run exactly as at start.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'larder-test-data-'));
  const db = await createTestDatabase();
  let dataSource: DataSource | undefined;
  let app: NestExpressApplication | undefined;
  let config: Config;
  try {
    config = loadConfig({
      LARDER_DATA_DIR: dataDir,
      LARDER_LOG_LEVEL: process.env.LARDER_TEST_LOG_LEVEL ?? 'silent',
      LARDER_PLUGINS: '',
      ...options.env,
    });
    const logger = createLogger(config.logLevel, options.logDestination ?? 2);
    const schema = options.schema ?? coreSchema;
    ({ dataSource } = await connectAndMigrate(db.target, schema, logger));
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.forRoot({ config, dataSource, logger }), ...(options.imports ?? [])],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    setupApp(app, config);
    await app.init();
    finishApp(app);
  } catch (error) {
    // A test that expects the boot to fail must not leave the database running (jest would hang).
    await app?.close().catch(() => undefined);
    if (dataSource?.isInitialized) await dataSource.destroy();
    await db.dispose();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const server = app.getHttpServer();
  return {
    app,
    config,
    db,
    dataSource,
    http: () => request(server),
    async close() {
      await app.close();
      await db.dispose();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
