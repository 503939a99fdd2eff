import { DataSource, type DataSourceOptions, type MixedList } from 'typeorm';

type PostgresConnectionOptions = Extract<DataSourceOptions, { type: 'postgres' }>;

import { coreMigrations } from '../../migrations/index.js';
import type { DatabaseTarget } from './database-target.js';
import { coreEntities } from './entities.js';

/** The entities and migrations a data source carries: the core's plus those of loaded plugins. */
export interface Schema {
  entities: MixedList<Function>;
  migrations: MixedList<Function>;
}

export const coreSchema: Schema = { entities: coreEntities, migrations: coreMigrations };

/** Options shared by the app, the CLI and the tests. Never `synchronize`: migrations only. */
export function dataSourceOptions(
  target: DatabaseTarget,
  schema: Schema = coreSchema,
): PostgresConnectionOptions {
  const connection =
    target.kind === 'embedded'
      ? {
          host: target.host,
          port: target.port,
          username: 'postgres',
          password: 'postgres',
          database: 'postgres',
          // PGlite is one session: one pooled connection (STACK.md §7).
          extra: { max: 1, connectionTimeoutMillis: 30_000 },
        }
      : { url: target.url, extra: { max: 10, connectionTimeoutMillis: 10_000 } };
  return {
    type: 'postgres',
    ...connection,
    entities: schema.entities,
    migrations: schema.migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    // gen_random_uuid() is built in since PG 13; no extension needed.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    logging: false,
  };
}

export function createDataSource(target: DatabaseTarget, schema: Schema = coreSchema): DataSource {
  return new DataSource(dataSourceOptions(target, schema));
}
