import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 7: the hash chain (`prev_hash`, `hash`), the keyed IP hash that the chain covers and
 * the IP retention keeps (`ip_hash`), signed checkpoints and the last `verify` results.
 */
export class AuditChain1795800000000 implements MigrationInterface {
  name = 'AuditChain1795800000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "audit_events" ADD "ip_hash" bytea`);
    await queryRunner.query(`ALTER TABLE "audit_events" ADD "prev_hash" bytea`);
    await queryRunner.query(`ALTER TABLE "audit_events" ADD "hash" bytea`);
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_ip_hash" ON "audit_events" ("ip_hash") `,
    );
    await queryRunner.query(
      `CREATE TABLE "audit_checkpoints" ("id" bigint NOT NULL, "kind" character varying(20) NOT NULL, "head_id" bigint NOT NULL, "head_hash" bytea NOT NULL, "signed_at" TIMESTAMP WITH TIME ZONE NOT NULL, "signature" bytea NOT NULL, "key_fingerprint" character varying(100) NOT NULL, CONSTRAINT "PK_audit_checkpoints_id" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_checkpoints_head_id" ON "audit_checkpoints" ("head_id") `,
    );
    // Checkpoint ids are drawn before signing (the signature covers the id).
    await queryRunner.query(`CREATE SEQUENCE "audit_checkpoints_id_seq"`);
    // One round trip for the writer: take the write lock, then (a statement of its own, so with a
    // snapshot taken after the lock) read the head and draw the batch's ids (audit.queries.ts).
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
    await queryRunner.query(
      `CREATE TABLE "audit_verify_runs" ("id" BIGSERIAL NOT NULL, "finished_at" TIMESTAMP WITH TIME ZONE NOT NULL, "ok" boolean NOT NULL, "from_id" bigint, "last_id" bigint, "rows" bigint NOT NULL, "problem" text, CONSTRAINT "PK_audit_verify_runs_id" PRIMARY KEY ("id"))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_verify_runs"`);
    await queryRunner.query(`DROP FUNCTION audit_chain_claim(integer, bigint)`);
    await queryRunner.query(`DROP SEQUENCE "audit_checkpoints_id_seq"`);
    await queryRunner.query(`DROP TABLE "audit_checkpoints"`);
    await queryRunner.query(`DROP INDEX "IDX_audit_events_ip_hash"`);
    await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "hash"`);
    await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "prev_hash"`);
    await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "ip_hash"`);
  }
}
