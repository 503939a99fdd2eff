import pg from 'pg';
const c = new pg.Client({ connectionString: process.argv[2] }); await c.connect();
const cols = "(id, occurred_at, tag, actor_kind, ip, ip_hash, user_agent, request_id, additional, plugin, prev_hash, hash)";
const vals = (i) => [90000000 + i, new Date(), 'account:login:failure', 'anonymous', '203.0.113.9', Buffer.alloc(32), 'x', 'r' + i, JSON.stringify({ reason: 'unknown_user', username_attempted: 'u' + i }), 'core', Buffer.alloc(32), Buffer.alloc(32)];
const ph = "($1, $2, $3, $4, $5::inet, $6, $7, $8, $9::jsonb, $10, $11, $12)";
const variants = {
  cte: `WITH events AS (INSERT INTO audit_events ${cols} OVERRIDING SYSTEM VALUE VALUES ${ph} RETURNING id, tag), outbox AS (INSERT INTO audit_outbox (destination_id, event_id) SELECT d.id, e.id FROM events e JOIN audit_stream_destinations d ON cardinality(d.tag_prefixes) = 0 OR EXISTS (SELECT 1 FROM unnest(d.tag_prefixes) AS p WHERE starts_with(e.tag, p)) ORDER BY e.id, d.id RETURNING 1) SELECT count(*)::int FROM outbox`,
  plain: `INSERT INTO audit_events ${cols} OVERRIDING SYSTEM VALUE VALUES ${ph}`,
  plainTable: `INSERT INTO audit_events_plain ${cols} OVERRIDING SYSTEM VALUE VALUES ${ph}`,
};
let n = 0;
for (const round of [1, 2]) for (const [k, sql] of Object.entries(variants)) {
  let t = 0;
  for (let i = 0; i < 300; i++) {
    await c.query('BEGIN');
    const a = performance.now(); await c.query(sql, vals(n++)); t += performance.now() - a;
    await c.query('ROLLBACK');
  }
  console.log(round, k, (t / 300).toFixed(3), 'ms');
}
await c.query('ALTER TABLE audit_events DISABLE TRIGGER audit_daily_counts_insert');
let t = 0;
for (let i = 0; i < 300; i++) { await c.query('BEGIN'); const a = performance.now(); await c.query(variants.plain, vals(n++)); t += performance.now() - a; await c.query('ROLLBACK'); }
console.log('plain, no trigger', (t / 300).toFixed(3), 'ms');
await c.query('ALTER TABLE audit_events ENABLE TRIGGER audit_daily_counts_insert');
await c.end();
