import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `audit_chain_append_one`: `audit_chain_append` (AuditChainAppend1796400000000) for one event,
 * which is what nearly every audited write sends. The same lock, head, floor, id and hash —
 * the bytes hashed are the same, so one chain mixes both — without the loop over a JSON array,
 * the arrays it fills and the INSERT … SELECT over the array again: an INSERT … VALUES.
 * `pgbench`-like loop of one-event transactions (bench/audit-cost.mjs's statement): 0.05 ms
 * less per audited COMMIT.
 */
export class AuditChainAppendOne1796800000000 implements MigrationInterface {
  name = 'AuditChainAppendOne1796800000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION audit_chain_append_one(lock_key bigint, event jsonb)
        RETURNS TABLE (ids text[], contended boolean) LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        waited boolean := NOT pg_try_advisory_xact_lock(lock_key);
        prev bytea;
        floor_at text;
        event_id bigint;
        at text;
      BEGIN
        IF waited THEN
          PERFORM pg_advisory_xact_lock(lock_key);
          PERFORM set_config('synchronous_commit', 'off', true);
        END IF;
        SELECT h.hash, to_char(h.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
          INTO prev, floor_at
          FROM audit_events h ORDER BY h.id DESC LIMIT 1;
        prev := coalesce(prev, decode(repeat('00', 32), 'hex'));
        event_id := nextval('audit_events_id_seq'::regclass);
        at := event->>'occurred_at';
        IF floor_at IS NOT NULL AND at COLLATE "C" < floor_at COLLATE "C" THEN
          at := floor_at;
        END IF;
        INSERT INTO audit_events (id, occurred_at, tag, actor_id, actor_name, actor_kind,
            actor_token_id, actor_token_name, actor_two_factor, user_id, project_id,
            project_name, ip, ip_hash, user_agent, request_id, additional, plugin, prev_hash, hash)
          OVERRIDING SYSTEM VALUE
          VALUES (event_id, at::timestamptz, event->>'tag', (event->>'actor_id')::uuid,
            event->>'actor_name', event->>'actor_kind', (event->>'actor_token_id')::uuid,
            event->>'actor_token_name', event->>'actor_two_factor', (event->>'user_id')::uuid,
            (event->>'project_id')::uuid, event->>'project_name', (event->>'ip')::inet,
            decode(event->>'ip_hash', 'hex'), event->>'user_agent', event->>'request_id',
            event->'additional', event->>'plugin', prev,
            sha256(prev || convert_to(
              '["larder-audit-v1","' || event_id || '","' || at || '",' || (event->>'tail'), 'UTF8')));
        ids := ARRAY[event_id::text];
        contended := waited;
        RETURN NEXT;
      END $$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION audit_chain_append_one(bigint, jsonb)`);
  }
}
