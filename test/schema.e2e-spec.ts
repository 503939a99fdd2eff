import { pendingSchemaChanges } from '../src/database/migrator.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('migrations', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('leave nothing to generate: the migrations build exactly the schema the entities describe', async () => {
    // A non-empty list is the migration someone forgot: `npm run migration:generate -- Name`.
    expect(await pendingSchemaChanges(t.dataSource)).toEqual([]);
  });

  it('are all recorded as applied once', async () => {
    const rows: { name: string }[] = await t.dataSource.query('SELECT name FROM migrations');
    const names = rows.map((row) => row.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBe(t.dataSource.migrations.length);
  });
});
