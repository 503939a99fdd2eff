// `npm run bench:audit-pages`: the audit views with 1,000,000 events stored, on a PostgreSQL
// server (DATABASE_URL, or the local one at 127.0.0.1:5432; a fresh database is created and
// dropped). Seeds `audit_events` with generate_series (a year of events over many tags,
// accounts, projects and addresses), signs in as a busy user, a busy project's owner and an
// administrator, and prints p50/p95 of each history page and of the admin log under each
// filter (target: p95 under 50 ms). Prints figures; it does not pass or fail.
// Usage: npm run bench:audit-pages [-- REQUESTS_PER_PAGE [EVENTS]]
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensureBuild } from '../scripts/ensure-build.mjs';
import {
  BENCH_PASSWORD,
  distributions,
  root,
  seedAccount,
  signIn,
  startServer,
  uploadFile,
} from './lib.mjs';
import { execFileSync } from 'node:child_process';

const REQUESTS = Number(process.argv[2] ?? 200);
const EVENTS = Number(process.argv[3] ?? 1_000_000);
/** The app secret of the bench's server; the seed keys each IP's hash with it, as the writer does. */
const BENCH_SECRET = 'larder-bench-audit-pages-not-a-real-secret';
ensureBuild();

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

function cli(env, args, input) {
  return execFileSync(process.execPath, [join(root, 'bin/larder.mjs'), ...args], {
    env: { PATH: process.env.PATH, LARDER_LOG_LEVEL: 'warn', LARDER_PLUGINS: 'audit', ...env },
    input,
    stdio: ['pipe', 'pipe', 'inherit'],
  }).toString();
}

/**
 * One year of events, ids in time order. Weights roughly as on a busy index: mostly sign-ins,
 * downloads-free uploads and releases, some failures and token changes; `bench` (the signed-in
 * user) concerns 5 % of them and project bench-pkg 3 %, the rest spread over 5,000 accounts and
 * 2,000 projects. Addresses: most from 10.0.0.0/8, some from 192.0.2.0/24 and IPv6.
 */
function seedSql(n, bench, project) {
  return `
WITH tags(k, tag, scope) AS (VALUES
  (0, 'account:login:success', 'a'), (1, 'account:login:success', 'a'),
  (2, 'account:login:success', 'a'), (3, 'account:login:success', 'a'),
  (4, 'account:login:failure', 'a'), (5, 'account:logout', 'a'),
  (6, 'account:api_token:added', 'a'), (7, 'account:api_token:removed', 'a'),
  (8, 'account:password:change', 'a'), (9, 'account:email:add', 'a'),
  (10, 'file:add', 'p'), (11, 'file:add', 'p'), (12, 'file:add', 'p'),
  (13, 'project:release:add', 'p'), (14, 'project:release:add', 'p'),
  (15, 'project:release:yank', 'p'), (16, 'project:upload:rejected', 'p'),
  (17, 'project:role:add', 'p'), (18, 'admin:user:disable', 'a'), (19, 'project:create', 'p')
), rows AS (
  SELECT i, hashint4(i) AS h, abs(hashint4(i + 7919)) AS r FROM generate_series(1, ${n}) AS i
)
INSERT INTO audit_events (occurred_at, tag, actor_id, actor_name, actor_kind, user_id,
  project_id, project_name, ip, ip_hash, user_agent, request_id, additional, plugin)
SELECT
  now() - interval '365 days' * (1 - i::float / ${n}),
  t.tag,
  CASE WHEN u.me THEN '${bench.id}'::uuid ELSE u.id END,
  CASE WHEN u.me THEN 'bench' ELSE 'user' || (r % 5000) END,
  CASE WHEN t.tag LIKE 'admin:%' THEN 'admin' WHEN r % 10 = 0 THEN 'token' ELSE 'user' END,
  CASE WHEN t.scope = 'a' THEN CASE WHEN u.me THEN '${bench.id}'::uuid ELSE u.id END END,
  CASE WHEN t.scope = 'p' THEN CASE WHEN p.me THEN '${project.id}'::uuid ELSE p.id END END,
  CASE WHEN t.scope = 'p' THEN CASE WHEN p.me THEN 'bench-pkg' ELSE 'project-' || (r % 2000) END END,
  a.ip,
  -- What the writer stores beside every IP (chain/canonical.ts ipKey), so the single-IP
  -- filter, which looks the key up, finds the seeded events.
  hmac(host(a.ip), 'larder-audit-ip:${BENCH_SECRET}', 'sha256'),
  'pip/24.0 CPython/3.12.' || (r % 5),
  md5(i::text),
  CASE t.tag
    WHEN 'account:login:success' THEN jsonb_build_object('two_factor_method', 'none')
    WHEN 'account:login:failure' THEN jsonb_build_object('reason', 'invalid_password')
    WHEN 'account:api_token:added' THEN jsonb_build_object('description', 'ci-' || (r % 100), 'scope', 'user', 'expires', null, 'token_id', md5(r::text)::uuid)
    WHEN 'account:api_token:removed' THEN jsonb_build_object('description', 'ci-' || (r % 100), 'token_id', md5(r::text)::uuid, 'reason', 'user')
    WHEN 'account:email:add' THEN jsonb_build_object('email', 'user' || (r % 5000) || '@example.test')
    WHEN 'admin:user:disable' THEN jsonb_build_object('reason', 'spam wave ' || (r % 50))
    WHEN 'file:add' THEN jsonb_build_object('filename', 'pkg_' || (r % 2000) || '-' || (i % 300) || '.0-py3-none-any.whl', 'version', (i % 300) || '.0', 'sha256', md5(i::text) || md5(r::text), 'size', r % 100000, 'submitted_by', 'user' || (r % 5000))
    WHEN 'project:release:add' THEN jsonb_build_object('version', (i % 300) || '.0', 'canonical_version', (i % 300)::text, 'submitted_by', 'user' || (r % 5000))
    WHEN 'project:release:yank' THEN jsonb_build_object('version', (i % 300) || '.0', 'yanked_reason', 'broken build', 'submitted_by', 'user' || (r % 5000))
    WHEN 'project:upload:rejected' THEN jsonb_build_object('reason', 'invalid_file', 'filename', 'bad-' || i || '.whl', 'message', 'not a zip file')
    WHEN 'project:role:add' THEN jsonb_build_object('target_user', 'user' || (r % 5000), 'role_name', 'Maintainer', 'submitted_by', 'user' || (r % 5000))
    WHEN 'project:create' THEN jsonb_build_object('created_by', 'user' || (r % 5000))
    ELSE '{}'::jsonb END,
  'core'
FROM rows
JOIN tags t ON t.k = abs(h) % 20
CROSS JOIN LATERAL (SELECT (r % 100) < 5 AS me,
  md5('u' || (r % 5000))::uuid AS id) u
CROSS JOIN LATERAL (SELECT (r % 100) BETWEEN 10 AND 12 AS me,
  md5('p' || (r % 2000))::uuid AS id) p
CROSS JOIN LATERAL (SELECT
  CASE WHEN r % 20 = 0 THEN ('2001:db8::' || to_hex(r % 65536))::inet
       WHEN r % 20 = 1 THEN ('192.0.2.' || (r % 256))::inet
       ELSE ('10.' || (r % 256) || '.' || ((r / 256) % 256) || '.' || ((r / 65536) % 256))::inet
  END AS ip) a`;
}

/** `count` sequential GETs on one keep-alive connection: latency percentiles in ms. */
async function measure(port, path, cookie, count) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const one = () =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      http
        .get({ host: '127.0.0.1', port, path, agent, headers: { Cookie: cookie } }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => {
            if (res.statusCode !== 200)
              reject(new Error(`${path}: ${res.statusCode} ${body.slice(0, 300)}`));
            else
              resolve({
                ms: performance.now() - started,
                rows: (body.match(/class="audit-summary"/g) ?? []).length,
              });
          });
        })
        .on('error', reject);
    });
  for (let i = 0; i < 5; i++) await one(); // warm-up: plans and caches
  const times = [];
  let rows = 0;
  for (let i = 0; i < count; i++) {
    const r = await one();
    times.push(r.ms);
    rows = r.rows;
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  const pct = (p) => times[Math.min(times.length - 1, Math.floor((times.length * p) / 100))];
  return { p50: pct(50), p95: pct(95), rows };
}

const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
// BENCH_DB=<name> reuses a database an earlier run kept (BENCH_KEEP=1), seed and all.
const reuse = process.env.BENCH_DB;
const name = reuse ?? `larder_bench_audit_${process.pid}`;
if (!reuse) await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(serverUrl);
url.pathname = `/${name}`;
const dataDir = mkdtempSync(join(tmpdir(), 'larder-bench-audit-'));
const env = {
  DATABASE_URL: url.toString(),
  LARDER_DATA_DIR: dataDir,
  LARDER_PLUGINS: 'audit',
  // Fixed, so that a database kept by BENCH_KEEP=1 and seeded with it is read with it again.
  LARDER_SECRET: BENCH_SECRET,
};
const db = new pg.Client({ connectionString: url.toString() });
let server;
try {
  console.log(`load average at start: ${load()} on ${cpus().length} CPUs`);
  let t0 = performance.now();
  if (!reuse) {
    const token = seedAccount(env);
    cli(
      env,
      ['user', 'create', 'root', '--email', 'root@example.test', '--admin', '--password-stdin'],
      `${BENCH_PASSWORD}\n`,
    );
    server = await startServer(env);
    // bench-pkg: a real project owned by `bench`, made by its first upload.
    for (const file of await distributions('bench-pkg', '1.0')) {
      await uploadFile(server.base, token, 'bench-pkg', '1.0', file);
    }
  } else {
    server = await startServer(env);
  }
  await db.connect();
  const [bench] = (await db.query(`SELECT id FROM users WHERE username = 'bench'`)).rows;
  const [project] = (await db.query(`SELECT id FROM projects WHERE name = 'bench-pkg'`)).rows;
  if (!reuse) {
    t0 = performance.now();
    await db.query('CREATE EXTENSION IF NOT EXISTS pgcrypto'); // hmac(), for the seed's ip_hash
    await db.query(seedSql(EVENTS, bench, project));
    // The admin log's search copy and daily counts, as the server's job keeps them
    // (audit.search.ts), in its batches.
    const copying = performance.now();
    while ((await db.query('SELECT audit_search_catch_up(100000) AS n')).rows[0].n > 0);
    console.log(`search copy of the seed: ${((performance.now() - copying) / 1000).toFixed(0)} s`);
    await db.query('VACUUM ANALYZE audit_events');
    await db.query('VACUUM ANALYZE audit_event_search');
  }
  const { rows: counts } = await db.query(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE user_id = $1)::int AS mine,
            count(*) FILTER (WHERE project_id = $2)::int AS project
       FROM audit_events`,
    [bench.id, project.id],
  );
  console.log(
    `${reuse ? 'reused' : 'seeded'} ${counts[0].total} events in ${((performance.now() - t0) / 1000).toFixed(0)} s ` +
      `(bench's account: ${counts[0].mine}, bench-pkg: ${counts[0].project}); load ${load()}`,
  );
  // A deep page of bench's history: the cursor halfway back through its events.
  const [deep] = (
    await db.query(
      'SELECT id::text FROM audit_events WHERE user_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1',
      [bench.id, Math.floor(counts[0].mine / 2)],
    )
  ).rows;

  const benchCookie = await signIn(server.base, 'bench');
  const rootCookie = await signIn(server.base, 'root');
  const day = (d) => new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10);
  const pages = [
    // The floor: a signed-in page of the same layout that reads no audit event.
    ['floor: account page, no audit query', '/manage/account/', benchCookie],
    ['account history, first page', '/manage/account/history/', benchCookie],
    [
      'account history, deep keyset page',
      `/manage/account/history/?before=${deep.id}`,
      benchCookie,
    ],
    [
      'account history, tag filter',
      '/manage/account/history/?tag=account:login:failure',
      benchCookie,
    ],
    ['project history, first page', '/manage/project/bench-pkg/history/', benchCookie],
    [
      'project history, tag filter',
      '/manage/project/bench-pkg/history/?tag=project:release:yank',
      benchCookie,
    ],
    ['admin log, unfiltered', '/admin/audit/', rootCookie],
    ['admin log, tag', '/admin/audit/?tag=account:password:change', rootCookie],
    ['admin log, actor', '/admin/audit/?actor=user42', rootCookie],
    ['admin log, user (account)', '/admin/audit/?user=user42', rootCookie],
    ['admin log, user (the busy account)', '/admin/audit/?user=bench', rootCookie],
    ['admin log, project', '/admin/audit/?project=project-7', rootCookie],
    ['admin log, ip CIDR /24', '/admin/audit/?ip=192.0.2.0/24', rootCookie],
    // One of the 64 addresses the seed gives 192.0.2.0/24 (r ≡ 1 mod 20 leaves r % 256 ≡ 1 mod 4): ~800 events.
    ['admin log, ip single', '/admin/audit/?ip=192.0.2.9', rootCookie],
    [
      'admin log, since/until (a week, 6 months ago)',
      `/admin/audit/?since=${day(190)}&until=${day(183)}`,
      rootCookie,
    ],
    ['admin log, q key=value', '/admin/audit/?q=reason%3Dinvalid_file', rootCookie],
    ['admin log, q free text', '/admin/audit/?q=spam+wave+7', rootCookie],
    ['admin log, tag + since', `/admin/audit/?tag=file:add&since=${day(30)}`, rootCookie],
  ];
  console.log(`\n${REQUESTS} sequential requests per page, after 5 to warm up\n`);
  const results = [];
  // BENCH_ONLY=<regex> measures only the pages whose label matches.
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
  for (const [label, path, cookie] of pages.filter(([l]) => !only || only.test(l))) {
    t0 = performance.now();
    const r = await measure(server.port, path, cookie, REQUESTS);
    results.push({ label, ...r });
    console.log(
      `${label.padEnd(48)} p50 ${r.p50.toFixed(1).padStart(6)} ms   p95 ${r.p95.toFixed(1).padStart(6)} ms   ` +
        `${String(r.rows).padStart(2)} rows   ${r.p95 < 50 ? 'ok' : 'OVER 50 ms'}   (load ${load()})`,
    );
  }
  console.log(`\nload average at end: ${load()} on ${cpus().length} CPUs`);
} finally {
  await server?.stop();
  await db.end().catch(() => undefined);
  // BENCH_KEEP=1 leaves the database for EXPLAIN ANALYZE.
  if (process.env.BENCH_KEEP || reuse) console.log(`kept database ${name}`);
  else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  rmSync(dataDir, { recursive: true, force: true });
}
