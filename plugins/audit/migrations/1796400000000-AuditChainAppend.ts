import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `audit_chain_append`: the whole chained insert in one call, where it took two statements
 * (`audit_chain_claim`, then an INSERT of rows hashed in Node). The INSERT was planned anew for
 * every audited transaction and each statement cost a round trip; PL/pgSQL keeps the plans.
 * bench/audit-cost.mjs: ~0.4 ms less per audited transaction on the server database.
 *
 * Node still builds the canonical encoding (chain/canonical.ts `canonicalTail`: every field
 * after `occurred_at`, as `JSON.stringify` writes them), because only the database knows the id
 * and the floored time: it takes the write lock, reads the head, draws each id, floors each
 * time at the one before (`occurred_at` never decreases along `id`), prefixes the three ASCII
 * fields it owns and hashes. The bytes hashed are those of version 1, as before.
 *
 * `events` is a JSON array of objects named as the columns (`ip_hash` in hex), plus `tail`. `contended` says the
 * lock was taken by another transaction when asked: the function has then set
 * `synchronous_commit = off` for this transaction, and the caller must wait for the flush after
 * COMMIT (audit.queries.ts `awaitDurable`).
 */
export class AuditChainAppend1796400000000 implements MigrationInterface {
  name = 'AuditChainAppend1796400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Only what the database must compute is built in the loop, into arrays; the INSERT
    // takes the rest from `events` itself. Rebuilding each event as jsonb cost ~60 µs a
    // call, resolving the sequence by name ~40 µs (pg_depend is not cached), and
    // jsonb_populate_recordset's per-call set-up more than the casts.
    await queryRunner.query(`
      CREATE FUNCTION audit_chain_append(lock_key bigint, events jsonb)
        RETURNS TABLE (ids text[], contended boolean) LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        waited boolean := NOT pg_try_advisory_xact_lock(lock_key);
        prev bytea;
        floor_at text;
        event jsonb;
        event_id bigint;
        at text;
        drawn bigint[] := '{}';
        times text[] := '{}';
        links bytea[] := '{}';
      BEGIN
        IF waited THEN
          PERFORM pg_advisory_xact_lock(lock_key);
          PERFORM set_config('synchronous_commit', 'off', true);
        END IF;
        SELECT h.hash, to_char(h.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
          INTO prev, floor_at
          FROM audit_events h ORDER BY h.id DESC LIMIT 1;
        prev := coalesce(prev, decode(repeat('00', 32), 'hex'));
        links := links || prev;
        FOR event IN SELECT value FROM jsonb_array_elements(events) LOOP
          -- The identity column's sequence (AuditEvents1795700000000).
          event_id := nextval('audit_events_id_seq'::regclass);
          at := event->>'occurred_at';
          -- The fixed-width ISO form orders as bytes as it does in time.
          IF floor_at IS NOT NULL AND at COLLATE "C" < floor_at COLLATE "C" THEN
            at := floor_at;
          END IF;
          floor_at := at;
          prev := sha256(prev || convert_to(
            '["larder-audit-v1","' || event_id || '","' || at || '",' || (event->>'tail'), 'UTF8'));
          drawn := drawn || event_id;
          times := times || at;
          links := links || prev;
        END LOOP;
        -- One statement, so the statement triggers (daily counts, streaming outbox) run once.
        -- links[n] is event n's prev_hash, links[n + 1] its hash.
        INSERT INTO audit_events (id, occurred_at, tag, actor_id, actor_name, actor_kind,
            actor_token_id, actor_token_name, actor_two_factor, user_id, project_id,
            project_name, ip, ip_hash, user_agent, request_id, additional, plugin, prev_hash, hash)
          OVERRIDING SYSTEM VALUE
          SELECT drawn[n], times[n]::timestamptz, e->>'tag', (e->>'actor_id')::uuid,
            e->>'actor_name', e->>'actor_kind', (e->>'actor_token_id')::uuid,
            e->>'actor_token_name', e->>'actor_two_factor', (e->>'user_id')::uuid,
            (e->>'project_id')::uuid, e->>'project_name', (e->>'ip')::inet,
            decode(e->>'ip_hash', 'hex'), e->>'user_agent', e->>'request_id', e->'additional',
            e->>'plugin', links[n], links[n + 1]
          FROM jsonb_array_elements(events) WITH ORDINALITY AS x(e, n)
          ORDER BY n;
        RETURN QUERY SELECT drawn::text[], waited;
      END $$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION audit_chain_append(bigint, jsonb)`);
  }
}
