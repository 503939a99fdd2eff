import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { ModuleMetadata } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { DestinationStream } from 'pino';
import type { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module.js';
import { connectAndMigrate, preparePlugins } from '../../src/boot.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import {
  runInContext,
  type Actor,
  type RequestContext,
} from '../../src/context/request-context.js';
import { coreSchema, type Schema } from '../../src/database/data-source.js';
/** Re-exported for plugin tests, which may import test helpers but not the core. */
export { pendingSchemaChanges } from '../../src/database/migrator.js';
import { createLogger } from '../../src/ops/logger.js';
import type { PluginSet } from '../../src/plugin-host/plugin-loader.js';
import { optionVariable } from '../../src/plugin-host/plugin-options.js';
import { finishApp, setupApp } from '../../src/web/setup-app.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface TestApp {
  app: NestExpressApplication;
  config: Config;
  dataSource: DataSource;
  db: TestDatabase;
  plugins: PluginSet;
  /** supertest bound to the app's HTTP server. */
  http(): ReturnType<typeof request>;
  /** Runs `fn` inside a request context, as the given actor (anonymous by default). */
  asActor<T>(actor: Actor, fn: () => T): T;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Extra environment, as an operator would set it (`LARDER_REGISTRATION: 'open'`). */
  env?: Record<string, string>;
  /** The core schema to extend with the plugins'; the core's by default. */
  schema?: Schema;
  /** Extra modules, e.g. a test-only controller that exercises an extension point. */
  imports?: ModuleMetadata['imports'];
  /**
   * Providers to replace, e.g. `[{ provide: ACCOUNT_DIRECTORY, useValue: directory }]` to give
   * a plugin the accounts it reads.
   */
  overrides?: Array<{ provide: unknown; useValue: unknown }>;
  /** Where log lines go (default stderr); set `LARDER_LOG_LEVEL` in `env` to see them. */
  logDestination?: DestinationStream;
}

/**
 * Boots the real app module, with the production pipeline, on a fresh database (embedded or
 * the DATABASE_URL server) and a temporary data dir. Plugins load as at boot, from
 * `LARDER_PLUGINS` in `env` (none by default); migrations, theirs included, run as at start.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'larder-test-data-'));
  const config = loadConfig({
    LARDER_DATA_DIR: dataDir,
    LARDER_LOG_LEVEL: process.env.LARDER_TEST_LOG_LEVEL ?? 'silent',
    LARDER_PLUGINS: '',
    ...options.env,
  });
  const logger = createLogger(config.logLevel, options.logDestination ?? 2);
  const { plugins, schema } = await preparePlugins(config, logger, options.schema ?? coreSchema);
  const db = await createTestDatabase();
  let dataSource: DataSource | undefined;
  let app: NestExpressApplication | undefined;
  try {
    ({ dataSource } = await connectAndMigrate(db.target, schema, logger));
    let builder = Test.createTestingModule({
      imports: [
        AppModule.forRoot({ config, dataSource, logger, plugins }),
        ...(options.imports ?? []),
      ],
    });
    for (const { provide, useValue } of options.overrides ?? []) {
      builder = builder.overrideProvider(provide).useValue(useValue);
    }
    const moduleRef = await builder.compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    setupApp(app, config);
    await app.init();
    finishApp(app);
    const server = app.getHttpServer();
    const running = app;
    return {
      app,
      config,
      db,
      dataSource,
      plugins,
      http: () => request(server),
      asActor: (actor, fn) => runInContext(testContext(actor), fn),
      async close() {
        await running.close();
        await db.dispose();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    // A test that expects the boot to fail must not leave the database running (jest would hang).
    await app?.close().catch(() => undefined);
    if (dataSource?.isInitialized) await dataSource.destroy();
    await db.dispose();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

export interface PluginTestAppOptions extends TestAppOptions {
  /** The plugin's options by property name: `{ maxFileSizeMb: '10' }`, as the env var would say. */
  options?: Record<string, string>;
}

/**
 * Boots the app with one plugin loaded exactly as `LARDER_PLUGINS=<plugin>` would: a folder
 * name under `plugins/`, an npm package name, or an absolute path. Its options are given by
 * property name and become `LARDER_PLUGIN_<NAME>_<OPTION>` variables; the plugin's name for
 * them is `name` (defaults to `plugin`, right for first-party plugins).
 */
export async function createPluginTestApp(
  plugin: string,
  options: PluginTestAppOptions & { name?: string } = {},
): Promise<TestApp> {
  const name = options.name ?? plugin;
  const pluginEnv = Object.fromEntries(
    Object.entries(options.options ?? {}).map(([property, value]) => [
      optionVariable(name, property),
      value,
    ]),
  );
  return createTestApp({
    ...options,
    env: { LARDER_PLUGINS: plugin, ...pluginEnv, ...options.env },
  });
}

let counter = 0;

/** A request context like the middleware's, for driving services and hooks outside HTTP. */
export function testContext(actor: Actor = { kind: 'anonymous' }): RequestContext {
  counter += 1;
  return {
    requestId: `test-${counter}`,
    ip: '192.0.2.1',
    userAgent: 'larder-tests',
    route: 'test',
    actor,
  };
}

/** A stable id per username, so a test can map ids back to accounts. */
export function testUserId(username: string): string {
  const hex = createHash('sha256').update(username).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A signed-in user actor for tests. */
export function userActor(username: string, isAdmin = false): Actor {
  return { kind: 'user', userId: testUserId(username), username, isAdmin };
}
