import type { Config } from '../config/config.js';
import { join } from 'node:path';
import { startEmbeddedPostgres } from './embedded-postgres.js';

/** Where the database is: the embedded one this process started, or a PostgreSQL server. */
export type DatabaseTarget =
  | { kind: 'embedded'; host: string; port: number; close(): Promise<void> }
  | { kind: 'server'; url: string; close(): Promise<void> };

/** Embedded when DATABASE_URL is unset (files under `<dataDir>/pg`), else the server it names. */
export async function openDatabase(config: Config): Promise<DatabaseTarget> {
  if (config.databaseUrl) {
    return { kind: 'server', url: config.databaseUrl, close: async () => {} };
  }
  const embedded = await startEmbeddedPostgres(join(config.dataDir, 'pg'));
  return { kind: 'embedded', host: embedded.host, port: embedded.port, close: embedded.close };
}
