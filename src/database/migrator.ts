import { MigrationExecutor, type DataSource } from 'typeorm';

/** Arbitrary but fixed: every Larder process migrating one database takes this lock. */
export const MIGRATION_LOCK_KEY = 7_231_555_001;

/**
 * Runs pending migrations while holding a session advisory lock, so that when several app
 * nodes start at once one migrates and the others wait, then find nothing left to do.
 * Lock and migrations share one query runner: the embedded database has a pool of one.
 * Returns the names of the migrations applied.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      const applied = await executor.executePendingMigrations();
      return applied.map((migration) => migration.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/** The SQL that would bring the database in line with the entities; empty when in sync. */
export async function pendingSchemaChanges(dataSource: DataSource): Promise<string[]> {
  const sql = await dataSource.driver.createSchemaBuilder().log();
  return sql.upQueries.map((query) => query.query);
}
