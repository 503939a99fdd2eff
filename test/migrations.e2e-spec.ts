import type { MigrationInterface, QueryRunner } from 'typeorm';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirInUseError, startEmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { createDataSource } from '../src/database/data-source.js';
import { runMigrations } from '../src/database/migrator.js';
import { runAsSystem } from '../src/context/request-context.js';
import { createTestDatabase, databaseMode, type TestDatabase } from './helpers/test-database.js';

/** Slow enough that two unserialised runners would both find it pending. */
class CreateLockProbe1700000000001 implements MigrationInterface {
  name = 'CreateLockProbe1700000000001';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE TABLE lock_probe (id int)');
    await queryRunner.query('SELECT pg_sleep(0.5)');
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE lock_probe');
  }
}

// Several app nodes share one server, so the advisory lock matters there. The embedded database
// serves one opener only, so two migrators can never meet on it: that is what embedded mode
// checks (across processes too, in server.e2e-spec.ts).
if (databaseMode === 'embedded') {
  describe('migrations on the embedded database', () => {
    it('cannot race: a second opener of the data dir is refused while the first has it', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'larder-lock-'));
      const template = process.env.PGLITE_TEMPLATE_DIR;
      if (template) await cp(template, dir, { recursive: true });
      const first = await startEmbeddedPostgres(dir);
      try {
        await expect(startEmbeddedPostgres(dir)).rejects.toThrow(DataDirInUseError);
      } finally {
        await first.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
} else {
  describe('migrations on a shared server', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterAll(async () => {
      await db?.dispose();
    });

    it('run once when two nodes start at the same time: the advisory lock serialises them', async () => {
      const schema = { entities: [], migrations: [CreateLockProbe1700000000001] };
      const nodes = [createDataSource(db.target, schema), createDataSource(db.target, schema)];
      await Promise.all(nodes.map((node) => node.initialize()));
      try {
        const applied = await Promise.all(
          nodes.map((node) => runAsSystem('test', () => runMigrations(node))),
        );
        expect(applied.flat()).toEqual(['CreateLockProbe1700000000001']);
        const rows = await nodes[0].query('SELECT name FROM migrations');
        expect(rows).toEqual([{ name: 'CreateLockProbe1700000000001' }]);
      } finally {
        await Promise.all(nodes.map((node) => node.destroy()));
      }
    });
  });
}
