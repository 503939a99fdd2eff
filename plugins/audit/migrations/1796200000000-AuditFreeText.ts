import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The trigram index behind the admin log's free-text `q` (see `where()` in audit.queries.ts). */
export const FREE_TEXT_INDEX = 'IDX_audit_events_additional_trgm';

/**
 * Whether pg_trgm is there or this role may create it: a superuser, or (PG 13+, where pg_trgm
 * is a trusted extension) a role with CREATE on the database. `schema` is where it lives.
 */
export async function trigramSupport(
  queryRunner: Pick<QueryRunner, 'query'>,
): Promise<{ schema?: string; available: boolean; mayCreate: boolean }> {
  const [row]: Array<{ schema: string | null; available: boolean; may_create: boolean }> =
    await queryRunner.query(`
      SELECT (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
               WHERE e.extname = 'pg_trgm') AS schema,
             EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') AS available,
             (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
               OR (current_setting('server_version_num')::int >= 130000
                   AND has_database_privilege(current_database(), 'CREATE')) AS may_create`);
  return { schema: row.schema ?? undefined, available: row.available, mayCreate: row.may_create };
}

/**
 * The index, given the schema pg_trgm's operator class lives in; on `audit_events` as this
 * migration made it, or on the search table that holds it since (AuditSearch1796700000000).
 */
export function freeTextIndexSql(
  schema: string,
  index = FREE_TEXT_INDEX,
  table = 'audit_events',
): string {
  const ident = `"${schema.replace(/"/g, '""')}"`;
  // The expression must be the filter's own, `additional::text`, for the planner to use it.
  return `CREATE INDEX IF NOT EXISTS "${index}" ON "${table}" USING gin ((additional::text) ${ident}.gin_trgm_ops)`;
}

/**
 * A trigram GIN index over `additional::text`, so the admin log's free text
 * (`additional::text ILIKE '%…%'`) reads its matches instead of scanning the log (and its chart
 * the 30 days' events). Needs the pg_trgm extension: the embedded database loads it; on a
 * server it is created here when this role may. When it may not, or the server lacks contrib,
 * the index is left out and the filter scans as before: the start must not fail for a speed-up.
 * AuditModule warns at every start while the index is missing; docs/operating.md gives the SQL
 * an operator runs to add it.
 */
export class AuditFreeText1796200000000 implements MigrationInterface {
  name = 'AuditFreeText1796200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const support = await trigramSupport(queryRunner);
    let schema = support.schema;
    if (!schema) {
      if (!support.available || !support.mayCreate) return;
      // The checks cannot foresee all (e.g. no CREATE on any schema in the search path): a
      // savepoint keeps a refused CREATE EXTENSION from aborting the migration's transaction.
      const inTransaction = queryRunner.isTransactionActive;
      if (inTransaction) await queryRunner.query(`SAVEPOINT audit_free_text`);
      try {
        await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
        if (inTransaction) await queryRunner.query(`RELEASE SAVEPOINT audit_free_text`);
      } catch {
        if (inTransaction) await queryRunner.query(`ROLLBACK TO SAVEPOINT audit_free_text`);
        return;
      }
      schema = (await trigramSupport(queryRunner)).schema;
      if (!schema) return;
    }
    await queryRunner.query(freeTextIndexSql(schema));
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // The extension stays: other things may use it, and dropping it needs more rights.
    await queryRunner.query(`DROP INDEX IF EXISTS "${FREE_TEXT_INDEX}"`);
  }
}
