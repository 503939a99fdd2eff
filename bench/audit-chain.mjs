// The audit hash chain's cost (docs/performance.md): chained insert throughput with 1, 8 and 32
// concurrent writers against the same inserts without the chain, then `larder audit verify`
// speed over a million events. Needs a PostgreSQL server (DATABASE_URL, default the local
// one); works in a database of its own, dropped at the end. Prints figures; no pass or fail.
// Usage: npm run bench:audit-chain [-- TRANSACTIONS VERIFY_EVENTS]  (VERIFY_EVENTS 0: inserts only)
// BENCH_SYNC_COMMIT=off runs both kinds of insert with synchronous_commit off, to show how much
// of the chain's cost is the WAL flush it waits for while holding the write lock.
// BENCH_KEEP=1 keeps the database and data directory and prints how to re-run verify on them
// (for profiling verify without refilling a million events).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ensureBuild } from '../scripts/ensure-build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const transactions = Number(process.argv[2] ?? 4000);
const verifyEvents = Number(process.argv[3] ?? 1_000_000);
ensureBuild();
const { awaitDurable, insertEvents } = await import(
  join(root, 'dist/plugins/audit/audit.queries.js')
);
const { ipKey } = await import(join(root, 'dist/plugins/audit/chain/canonical.js'));

const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `larder_bench_audit_${Date.now().toString(36)}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(server);
url.pathname = `/${name}`;
const dataDir = mkdtempSync(join(tmpdir(), 'larder-bench-audit-'));
const secret = 'bench-secret-bench-secret-bench-secret-42';
const env = {
  PATH: process.env.PATH,
  DATABASE_URL: url.toString(),
  LARDER_DATA_DIR: dataDir,
  LARDER_SECRET: secret,
  LARDER_PLUGINS: 'audit',
  LARDER_LOG_LEVEL: 'warn',
};
function larder(args) {
  const result = spawnSync(process.execPath, [join(root, 'bin/larder.mjs'), ...args], {
    env,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`larder ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

const syncCommit = process.env.BENCH_SYNC_COMMIT;
const pool = new pg.Pool({
  connectionString: url.toString(),
  max: 32,
  ...(syncCommit ? { options: `-c synchronous_commit=${syncCommit}` } : {}),
});
// DROP DATABASE … WITH (FORCE) at the end ends the pool's idle connections.
pool.on('error', () => undefined);
/** What `insertEvents` needs of an EntityManager: `query` on one connection. */
const managerOf = (client) => ({
  query: async (sql, params) => (await client.query(sql, params)).rows,
});
const ipHash = ipKey(secret, '203.0.113.9');
function row(i) {
  return {
    occurredAt: new Date(),
    tag: 'account:login:failure',
    actorId: null,
    actorName: null,
    actorKind: 'anonymous',
    actorTokenId: null,
    actorTokenName: null,
    actorTwoFactor: null,
    userId: null,
    projectId: null,
    projectName: null,
    ip: '203.0.113.9',
    ipHash,
    userAgent: 'bench/1.0',
    requestId: `bench-${i}`,
    additional: { reason: 'unknown_user', username_attempted: `user${i}` },
    plugin: 'core',
  };
}
/**
 * The same row, the same columns bar the chain's, no lock, into a copy of the table with the
 * same indexes and triggers: the cost the chain adds is the difference.
 */
async function plainInsert(client, r) {
  await client.query(
    `INSERT INTO audit_events_plain (occurred_at, tag, actor_kind, ip, ip_hash, user_agent, request_id, additional, plugin)
     VALUES ($1, $2, $3, $4::inet, $5, $6, $7, $8::jsonb, $9)`,
    [
      r.occurredAt,
      r.tag,
      r.actorKind,
      r.ip,
      r.ipHash,
      r.userAgent,
      r.requestId,
      JSON.stringify(r.additional),
      r.plugin,
    ],
  );
}

/** `transactions` transactions of one event each, `writers` at a time; events/s. */
async function run(writers, chained) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      const client = await pool.connect();
      try {
        while (next < transactions) {
          const i = next++;
          await client.query('BEGIN');
          const chain = chained ? await insertEvents(managerOf(client), [row(i)]) : null;
          if (!chained) await plainInsert(client, row(i));
          await client.query('COMMIT');
          // As the app does after an audited commit that waited for the lock (docs/audit.md,
          // "Durability").
          if (chain?.asynchronous) await awaitDurable(managerOf(client));
        }
      } finally {
        client.release();
      }
    }),
  );
  return transactions / ((performance.now() - started) / 1000);
}

async function fillAndVerify() {
  // Bulk-fill to `verifyEvents` chained events (1,000 a transaction), then time verify.
  const client = await pool.connect();
  const [{ n }] = (await client.query('SELECT count(*)::int AS n FROM audit_events')).rows;
  const fillStarted = performance.now();
  for (let done = n; done < verifyEvents; done += 1000) {
    await client.query('BEGIN');
    await insertEvents(
      managerOf(client),
      Array.from({ length: Math.min(1000, verifyEvents - done) }, (_, i) => row(done + i)),
    );
    await client.query('COMMIT');
  }
  client.release();
  console.log(
    `fill: ${verifyEvents - n} events in batches of 1,000: ${((verifyEvents - n) / ((performance.now() - fillStarted) / 1000)).toFixed(0)}/s`,
  );
  const started = performance.now();
  const verified = larder(['audit', 'verify']);
  const wall = (performance.now() - started) / 1000;
  console.log(`verify: ${verified.split('\n').pop()}`);
  console.log(`verify wall time incl. CLI start: ${wall.toFixed(1)} s`);
}

try {
  larder(['migrate']);
  const setup = await pool.connect();
  // The same table, indexes and triggers (daily counts, streaming outbox): only the chain differs.
  await setup.query('CREATE TABLE audit_events_plain (LIKE audit_events INCLUDING ALL)');
  await setup.query(
    `CREATE TRIGGER audit_events_added AFTER INSERT ON audit_events_plain
       REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION audit_events_added()`,
  );
  setup.release();
  console.log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `insert: ${transactions} transactions of one event each, on ${url.host}` +
      (syncCommit ? `, synchronous_commit=${syncCommit}` : ''),
  );
  for (const writers of [1, 8, 32]) {
    const plain = await run(writers, false);
    const chained = await run(writers, true);
    console.log(
      `  ${String(writers).padStart(2)} writers: chained ${chained.toFixed(0)}/s, unchained ${plain.toFixed(0)}/s, ratio ${(chained / plain).toFixed(2)}`,
    );
  }
  const check = larder(['audit', 'verify']);
  console.log(`  chain after the runs: ${check.split('\n').pop()}`);

  if (verifyEvents > 0) await fillAndVerify();
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await pool.end();
  if (process.env.BENCH_KEEP) {
    console.log(
      `kept: DATABASE_URL=${url} LARDER_DATA_DIR=${dataDir} LARDER_SECRET=${secret} ` +
        `LARDER_PLUGINS=audit node bin/larder.mjs audit verify  (drop with DROP DATABASE ${name})`,
    );
  } else {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    rmSync(dataDir, { recursive: true, force: true });
  }
  await admin.end();
}
