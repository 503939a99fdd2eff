import type { EntityManager } from 'typeorm';

/**
 * The streaming outbox's SQL. Claims use `FOR UPDATE SKIP LOCKED` inside one UPDATE, so several
 * app nodes never claim the same row, and the claim is a lease (`next_attempt_at` moved ahead)
 * rather than a transaction held during delivery: the embedded database has one connection.
 */

// Events are queued for streaming by the trigger audit_events_added on audit_events
// (migration 1796600000000), in the events' own transaction.

export interface ClaimedEntry {
  id: string;
  destinationId: string;
  eventId: string;
  attempts: number;
}

/**
 * Claims up to `limit` due entries of unpaused destinations, oldest first (index
 * IDX_audit_outbox_destination_id_id serves the head-of-line check), leasing them for
 * `leaseMs` (a node that dies mid-delivery lets another retry after the lease: at-least-once).
 */
export async function claimDue(
  manager: EntityManager,
  limit: number,
  leaseMs: number,
): Promise<ClaimedEntry[]> {
  // TypeORM answers an UPDATE … RETURNING with [rows, count].
  const [rows]: [ClaimedEntry[], number] = await manager.query(
    `UPDATE audit_outbox o
        SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
      WHERE o.id IN (
        SELECT o2.id FROM audit_outbox o2
          JOIN audit_stream_destinations d ON d.id = o2.destination_id
         WHERE NOT d.paused AND o2.next_attempt_at <= now()
           -- Head of line: nothing while an earlier entry of the destination waits for a
           -- retry or is leased by another worker, so a receiver gets its events in order.
           AND NOT EXISTS (
             SELECT 1 FROM audit_outbox o3
              WHERE o3.destination_id = o2.destination_id AND o3.id < o2.id
                AND o3.next_attempt_at > now())
         ORDER BY o2.id
         LIMIT $1
           FOR UPDATE OF o2 SKIP LOCKED)
     RETURNING o.id::text AS "id", o.destination_id AS "destinationId",
               o.event_id::text AS "eventId", o.attempts`,
    [limit, leaseMs],
  );
  return rows.sort((a, b) => Number(a.id) - Number(b.id));
}

/**
 * Delivered: the entries go, and the destination's log notes the success, in one statement (so
 * at once: whoever sees the outbox empty sees the log too, and a crash between cannot lose the
 * count).
 */
export async function markDelivered(
  manager: EntityManager,
  destinationId: string,
  ids: string[],
): Promise<void> {
  await manager.query(
    `WITH gone AS (DELETE FROM audit_outbox WHERE id = ANY($2::bigint[]) RETURNING id)
     UPDATE audit_stream_destinations
        SET delivered = delivered + (SELECT count(*) FROM gone), last_success_at = now()
      WHERE id = $1`,
    [destinationId, ids],
  );
}

/**
 * Failed: retried after `delayMs` (the caller's backoff); the destination's log notes why, in
 * the same statement.
 */
export async function markFailed(
  manager: EntityManager,
  destinationId: string,
  ids: string[],
  error: string,
  delayMs: (attempts: number) => number,
  attempts: number,
): Promise<void> {
  await manager.query(
    // A data-modifying CTE runs whether or not the statement reads it.
    `WITH retried AS (
       UPDATE audit_outbox
          SET attempts = attempts + 1, last_error = $2,
              next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
        WHERE id = ANY($1::bigint[]))
     UPDATE audit_stream_destinations SET last_error = $2, last_error_at = now() WHERE id = $4`,
    [ids, error, delayMs(attempts + 1), destinationId],
  );
}

/** Pending entries and the most attempts of any, per destination (the admin page's log). */
export async function outboxStatus(
  manager: EntityManager,
): Promise<Map<string, { pending: number; attempts: number }>> {
  const rows: Array<{ id: string; pending: number; attempts: number }> = await manager.query(
    `SELECT destination_id AS id, count(*)::int AS pending, max(attempts)::int AS attempts
       FROM audit_outbox GROUP BY destination_id`,
  );
  return new Map(rows.map((r) => [r.id, { pending: r.pending, attempts: r.attempts }]));
}
