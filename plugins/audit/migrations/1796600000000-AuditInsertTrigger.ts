import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cheaper inserts, which every audited request pays for (bench/audit-cost.mjs):
 *
 * - The two statement triggers on INSERT (daily counts, streaming outbox), each a PL/pgSQL
 *   call over its own transition table, become one, `audit_events_added`, which looks at the
 *   outbox only when a destination exists. `pg_stat_user_functions` over 6,000 one-event
 *   transactions: 112 µs of trigger time per INSERT before, 84 µs after. (A row trigger was
 *   cheaper still, 60 µs, but a bulk INSERT then updates the same day's count row once per
 *   event inside one transaction, each update walking the versions the ones before left:
 *   100,000 events took minutes.)
 * - `IDX_audit_events_actor_id_id` goes: no view or filter reads by actor id (the `actor`
 *   filter is by name, `IDX_audit_events_actor_name_id`), and each index is opened and
 *   written by every insert.
 */
export class AuditInsertTrigger1796600000000 implements MigrationInterface {
  name = 'AuditInsertTrigger1796600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER audit_daily_counts_insert ON audit_events`);
    await queryRunner.query(`DROP TRIGGER audit_outbox_queue ON audit_events`);
    await queryRunner.query(`DROP FUNCTION audit_daily_counts_add()`);
    await queryRunner.query(`DROP FUNCTION audit_outbox_queue()`);
    await queryRunner.query(`
      CREATE FUNCTION audit_events_added() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO audit_daily_counts (day, tag, events)
          SELECT (occurred_at AT TIME ZONE 'UTC')::date, tag, count(*) FROM added GROUP BY 1, 2
          ON CONFLICT (day, tag) DO UPDATE SET events = audit_daily_counts.events + EXCLUDED.events;
        -- Paused destinations queue too, and catch up when resumed.
        IF EXISTS (SELECT 1 FROM audit_stream_destinations) THEN
          INSERT INTO audit_outbox (destination_id, event_id)
            SELECT d.id, a.id FROM added a JOIN audit_stream_destinations d
                ON cardinality(d.tag_prefixes) = 0
                OR EXISTS (SELECT 1 FROM unnest(d.tag_prefixes) AS p WHERE starts_with(a.tag, p))
             ORDER BY a.id, d.id;
        END IF;
        RETURN NULL;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER audit_events_added AFTER INSERT ON audit_events REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION audit_events_added()`,
    );
    await queryRunner.query(`DROP INDEX "IDX_audit_events_actor_id_id"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_actor_id_id" ON "audit_events" ("actor_id", "id")`,
    );
    await queryRunner.query(`DROP TRIGGER audit_events_added ON audit_events`);
    await queryRunner.query(`DROP FUNCTION audit_events_added()`);
    await queryRunner.query(`
      CREATE FUNCTION audit_daily_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO audit_daily_counts (day, tag, events)
          SELECT (occurred_at AT TIME ZONE 'UTC')::date, tag, count(*) FROM added GROUP BY 1, 2
          ON CONFLICT (day, tag) DO UPDATE SET events = audit_daily_counts.events + EXCLUDED.events;
        RETURN NULL;
      END $$`);
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
      `CREATE TRIGGER audit_daily_counts_insert AFTER INSERT ON audit_events REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION audit_daily_counts_add()`,
    );
    await queryRunner.query(
      `CREATE TRIGGER audit_outbox_queue AFTER INSERT ON audit_events REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION audit_outbox_queue()`,
    );
  }
}
