import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseTarget } from '../../src/database/database-target.js';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';

/** Which database the suite runs on: the machine's server when DATABASE_URL is set. */
export const serverUrl: string | undefined = process.env.DATABASE_URL || undefined;
export const databaseMode: 'embedded' | 'server' = serverUrl ? 'server' : 'embedded';

export interface TestDatabase {
  target: DatabaseTarget;
  /** For server mode: the URL of this test's own database. */
  url?: string;
  /** Stops the embedded server or drops the server database, and removes temporary files. */
  dispose(): Promise<void>;
}

/**
 * A fresh, empty database for one test file. Embedded: a copy of the PGlite template made by
 * global-setup. Server: a new database on the DATABASE_URL server, dropped afterwards, so
 * test files running in parallel never see each other's rows.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (serverUrl) {
    const name = `larder_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      target: { kind: 'server', url: url.toString(), close: async () => {} },
      async dispose() {
        const client = new pg.Client({ connectionString: serverUrl });
        await client.connect();
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await client.end();
      },
    };
  }
  const template = process.env.PGLITE_TEMPLATE_DIR;
  const dir = await mkdtemp(join(tmpdir(), 'larder-test-db-'));
  if (template) await cp(template, dir, { recursive: true });
  const embedded = await startEmbeddedPostgres(dir);
  return {
    target: { kind: 'embedded', host: embedded.host, port: embedded.port, close: embedded.close },
    async dispose() {
      await embedded.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
