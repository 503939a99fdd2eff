import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `audit_chain_claim` also returns the head's `occurred_at`, so the writer can keep
 * `occurred_at` from ever decreasing along `id` (audit.queries.ts `insertEvents`): date ranges
 * are then id ranges, which the list and chart queries walk on the primary key. Rows written
 * before this keep their times. And whether it had to wait for the write lock (`contended`):
 * then the writer commits without holding the lock through the WAL flush (audit.queries.ts
 * `claim`). Old callers (`SELECT head, ids FROM …`) still work.
 */
export class AuditChainTime1796100000000 implements MigrationInterface {
  name = 'AuditChainTime1796100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION audit_chain_claim(integer, bigint)`);
    await queryRunner.query(
      `CREATE FUNCTION audit_chain_claim(n integer, lock_key bigint)
         RETURNS TABLE (head bytea, head_at text, ids text[], contended boolean)
         LANGUAGE plpgsql VOLATILE AS $$
       DECLARE
         waited boolean := NOT pg_try_advisory_xact_lock(lock_key);
       BEGIN
         IF waited THEN
           PERFORM pg_advisory_xact_lock(lock_key);
         END IF;
         RETURN QUERY SELECT h.hash,
           to_char(h.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           ARRAY(SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))::text
                   FROM generate_series(1, n)),
           waited
         FROM (SELECT NULL) one
         LEFT JOIN LATERAL (SELECT e.hash, e.occurred_at FROM audit_events e
                             ORDER BY e.id DESC LIMIT 1) h ON TRUE;
       END $$`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION audit_chain_claim(integer, bigint)`);
    await queryRunner.query(
      `CREATE FUNCTION audit_chain_claim(n integer, lock_key bigint)
         RETURNS TABLE (head bytea, ids text[]) LANGUAGE plpgsql VOLATILE AS $$
       BEGIN
         PERFORM pg_advisory_xact_lock(lock_key);
         RETURN QUERY SELECT (SELECT e.hash FROM audit_events e ORDER BY e.id DESC LIMIT 1),
           ARRAY(SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))::text
                   FROM generate_series(1, n));
       END $$`,
    );
  }
}
