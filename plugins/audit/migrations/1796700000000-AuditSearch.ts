import type { MigrationInterface, QueryRunner } from 'typeorm';
import { freeTextIndexSql, trigramSupport } from './1796200000000-AuditFreeText.js';

/** The trigram index of the admin log's free text, now on the search table. */
export const SEARCH_FREE_TEXT_INDEX = 'IDX_audit_event_search_additional_trgm';

/**
 * The admin log's search indexes and the daily counts leave the audited write's path.
 *
 * Every audited request paid, inside its COMMIT, for eleven index entries (two of them GIN)
 * and a statement trigger (daily counts, streaming outbox): 0.77 ms of the ~0.9 ms an audited
 * token creation cost PostgreSQL (`pg_stat_user_functions`, bench/audit-cost.mjs). Now
 * `audit_events` keeps only what must be exact at commit and what the histories read: its
 * primary key, (user_id, id), (project_id, id) and occurred_at. The admin log's filters (tag,
 * actor, project name, IP, `additional`) read `audit_event_search`, a copy of the filtered
 * columns that `audit_search_catch_up` fills in id order, in batches, off the request path
 * (audit.search.ts), with the daily counts and the streaming outbox in the same transaction.
 *
 * `audit_search_state.watermark` is exact: ids follow commit order (the write lock,
 * AuditChainAppend), so once an id is visible every lower id has committed or never will,
 * and each batch copies the next ids with their counts and outbox rows and moves the
 * watermark in one transaction. Queries read the search table up to the watermark and
 * `audit_events` above it (audit.queries.ts `sources`): a filter sees an event as soon as it
 * has committed, whether or not it has been copied yet.
 */
export class AuditSearch1796700000000 implements MigrationInterface {
  name = 'AuditSearch1796700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "audit_event_search" (
        "id" bigint NOT NULL,
        "occurred_at" timestamptz NOT NULL,
        "tag" character varying(100) NOT NULL,
        "actor_id" uuid,
        "actor_name" character varying(100),
        "user_id" uuid,
        "project_id" uuid,
        "project_name" character varying(200),
        "ip" inet,
        "ip_hash" bytea,
        "additional" jsonb NOT NULL,
        CONSTRAINT "PK_audit_event_search" PRIMARY KEY ("id"),
        CONSTRAINT "FK_audit_event_search_id" FOREIGN KEY ("id")
          REFERENCES "audit_events"("id") ON DELETE CASCADE)`);
    await queryRunner.query(
      `CREATE TABLE "audit_search_state" ("id" boolean NOT NULL DEFAULT true, "watermark" bigint NOT NULL, CONSTRAINT "PK_audit_search_state" PRIMARY KEY ("id"), CONSTRAINT "CHK_audit_search_state_one" CHECK ("id"))`,
    );
    // The copy of what is there now, counted afresh (the trigger kept the counts until now,
    // and what the outbox holds was queued by it).
    await queryRunner.query(`
      INSERT INTO audit_event_search (id, occurred_at, tag, actor_id, actor_name, user_id, project_id,
          project_name, ip, ip_hash, additional)
        SELECT id, occurred_at, tag, actor_id, actor_name, user_id, project_id, project_name, ip, ip_hash,
               additional
          FROM audit_events`);
    await queryRunner.query(
      `INSERT INTO audit_search_state (watermark) SELECT coalesce(max(id), 0) FROM audit_events`,
    );
    for (const sql of [
      `CREATE INDEX "IDX_audit_event_search_tag_id" ON "audit_event_search" ("tag", "id")`,
      `CREATE INDEX "IDX_audit_event_search_actor_name_id" ON "audit_event_search" ("actor_name", "id")`,
      `CREATE INDEX "IDX_audit_event_search_project_name_id" ON "audit_event_search" ("project_name", "id")`,
      `CREATE INDEX "IDX_audit_event_search_ip_id" ON "audit_event_search" ("ip", "id")`,
      `CREATE INDEX "IDX_audit_event_search_ip_hash" ON "audit_event_search" ("ip_hash")`,
      `CREATE INDEX "IDX_audit_event_search_additional" ON "audit_event_search" USING gin ("additional" jsonb_path_ops)`,
    ]) {
      await queryRunner.query(sql);
    }
    const trigram = await trigramSupport(queryRunner);
    if (trigram.schema) {
      await queryRunner.query(
        freeTextIndexSql(trigram.schema, SEARCH_FREE_TEXT_INDEX, 'audit_event_search'),
      );
    }
    await queryRunner.query(`DROP TRIGGER audit_events_added ON audit_events`);
    await queryRunner.query(`DROP FUNCTION audit_events_added()`);
    for (const index of [
      'IDX_audit_events_tag_id',
      'IDX_audit_events_actor_name_id',
      'IDX_audit_events_project_name_id',
      'IDX_audit_events_ip_id',
      'IDX_audit_events_ip_hash',
      'IDX_audit_events_additional',
      'IDX_audit_events_additional_trgm',
    ]) {
      await queryRunner.query(`DROP INDEX IF EXISTS "${index}"`);
    }
    // Retention's DELETE takes off the counts only what they hold: events up to the watermark.
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION audit_daily_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE audit_daily_counts c SET events = c.events - gone.n
          FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, tag, count(*) AS n
                  FROM removed
                 WHERE id <= (SELECT watermark FROM audit_search_state)
                 GROUP BY 1, 2) gone
         WHERE c.day = gone.day AND c.tag = gone.tag;
        RETURN NULL;
      END $$`);
    // One batch: the next events after the watermark (at most `batch`), copied, counted and
    // queued for streaming, and the watermark moved past them. The row lock on the state
    // serialises nodes. Returns how many it copied (0: caught up).
    await queryRunner.query(`
      CREATE FUNCTION audit_search_catch_up(batch integer) RETURNS integer
        LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        mark bigint;
        moved integer;
        last_id bigint;
      BEGIN
        SELECT watermark INTO mark FROM audit_search_state FOR UPDATE;
        -- Data-modifying CTEs all run, referenced or not, on the same copied rows.
        WITH copied AS (
          INSERT INTO audit_event_search (id, occurred_at, tag, actor_id, actor_name, user_id, project_id,
              project_name, ip, ip_hash, additional)
            SELECT id, occurred_at, tag, actor_id, actor_name, user_id, project_id, project_name,
                   ip, ip_hash, additional
              FROM audit_events WHERE id > mark ORDER BY id LIMIT batch
            RETURNING id, occurred_at, tag),
        counted AS (
          INSERT INTO audit_daily_counts (day, tag, events)
            SELECT (occurred_at AT TIME ZONE 'UTC')::date, tag, count(*) FROM copied GROUP BY 1, 2
            ON CONFLICT (day, tag) DO UPDATE SET events = audit_daily_counts.events + EXCLUDED.events),
        -- Paused destinations queue too, and catch up when resumed.
        queued AS (
          INSERT INTO audit_outbox (destination_id, event_id)
            SELECT d.id, c.id FROM copied c JOIN audit_stream_destinations d
                ON cardinality(d.tag_prefixes) = 0
                OR EXISTS (SELECT 1 FROM unnest(d.tag_prefixes) AS p WHERE starts_with(c.tag, p))
             ORDER BY c.id, d.id)
        SELECT count(*), max(id) INTO moved, last_id FROM copied;
        IF moved > 0 THEN
          UPDATE audit_search_state SET watermark = last_id;
        END IF;
        RETURN moved;
      END $$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // Everything not yet copied is counted before the trigger takes over again.
    await queryRunner.query(`SELECT audit_search_catch_up(2147483647)`);
    await queryRunner.query(`DROP FUNCTION audit_search_catch_up(integer)`);
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION audit_daily_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE audit_daily_counts c SET events = c.events - gone.n
          FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, tag, count(*) AS n
                  FROM removed GROUP BY 1, 2) gone
         WHERE c.day = gone.day AND c.tag = gone.tag;
        RETURN NULL;
      END $$`);
    for (const sql of [
      `CREATE INDEX "IDX_audit_events_tag_id" ON "audit_events" ("tag", "id")`,
      `CREATE INDEX "IDX_audit_events_actor_name_id" ON "audit_events" ("actor_name", "id")`,
      `CREATE INDEX "IDX_audit_events_project_name_id" ON "audit_events" ("project_name", "id")`,
      `CREATE INDEX "IDX_audit_events_ip_id" ON "audit_events" ("ip", "id")`,
      `CREATE INDEX "IDX_audit_events_ip_hash" ON "audit_events" ("ip_hash")`,
      `CREATE INDEX "IDX_audit_events_additional" ON "audit_events" USING gin ("additional" jsonb_path_ops)`,
    ]) {
      await queryRunner.query(sql);
    }
    const trigram = await trigramSupport(queryRunner);
    if (trigram.schema) await queryRunner.query(freeTextIndexSql(trigram.schema));
    await queryRunner.query(`
      CREATE FUNCTION audit_events_added() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO audit_daily_counts (day, tag, events)
          SELECT (occurred_at AT TIME ZONE 'UTC')::date, tag, count(*) FROM added GROUP BY 1, 2
          ON CONFLICT (day, tag) DO UPDATE SET events = audit_daily_counts.events + EXCLUDED.events;
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
    await queryRunner.query(`DROP TABLE "audit_search_state"`);
    await queryRunner.query(`DROP TABLE "audit_event_search"`);
  }
}
