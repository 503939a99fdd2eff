import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The streaming outbox is filled by a statement trigger on `audit_events`, in the events'
 * transaction, rather than by a statement of the writer's: PL/pgSQL keeps the plan, where the
 * writer's own statement was planned anew for every audited transaction (~0.5 ms, spent while
 * holding the audit write lock). Paused destinations still queue, and catch up when resumed.
 */
export class AuditOutboxTrigger1796300000000 implements MigrationInterface {
  name = 'AuditOutboxTrigger1796300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION audit_outbox_queue() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO audit_outbox (destination_id, event_id)
          SELECT d.id, a.id FROM added a JOIN audit_stream_destinations d
              ON cardinality(d.tag_prefixes) = 0
              OR EXISTS (SELECT 1 FROM unnest(d.tag_prefixes) AS p WHERE starts_with(a.tag, p))
           ORDER BY a.id, d.id;
        RETURN NULL;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER audit_outbox_queue AFTER INSERT ON audit_events REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION audit_outbox_queue()`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER audit_outbox_queue ON audit_events`);
    await queryRunner.query(`DROP FUNCTION audit_outbox_queue()`);
  }
}
