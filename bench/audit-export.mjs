// `npm run bench:audit-export`: export speed (events/s) and peak RSS of `larder audit export`
// over 1,000,000 events on the PostgreSQL server (BENCH_PG_URL, default the local cluster as
// postgres). The database is created and dropped here. Figures, not a pass/fail.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { baseEnv, root } from './lib.mjs';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const server = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `larder_bench_export_${process.pid}`;
const url = new URL(server);
url.pathname = `/${name}`;
const dataDir = mkdtempSync(join(tmpdir(), 'larder-bench-export-'));
const env = baseEnv({
  DATABASE_URL: url.toString(),
  LARDER_DATA_DIR: dataDir,
  LARDER_PLUGINS: 'audit',
});

const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
try {
  execFileSync(process.execPath, [join(root, 'bin/larder.mjs'), 'migrate'], {
    env,
    stdio: 'inherit',
  });
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  let started = Date.now();
  // Shaped like real events: a user, a project, an IP, a user agent, a few additional keys.
  await db.query(
    `INSERT INTO audit_events (occurred_at, tag, actor_id, actor_name, actor_kind, user_id,
                               project_id, project_name, ip, user_agent, request_id, additional, plugin)
     SELECT now() - make_interval(secs => $1 - n), 'project:release:add', gen_random_uuid(),
            'user' || (n % 500), 'user', gen_random_uuid(), gen_random_uuid(), 'project-' || (n % 2000),
            ('10.' || (n % 250) || '.' || (n % 200) || '.7')::inet, 'twine/6.1.0 CPython/3.12.3',
            gen_random_uuid()::text,
            jsonb_build_object('version', '1.' || n, 'filename', 'project_' || n || '-1.0-py3-none-any.whl'),
            'core'
       FROM generate_series(1, $1) AS n`,
    [EVENTS],
  );
  await db.query('VACUUM ANALYZE audit_events');
  await db.end();
  console.log(`seeded ${EVENTS} events in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  for (const format of ['jsonl', 'csv']) {
    started = Date.now();
    const child = spawn(
      process.execPath,
      [join(root, 'bin/larder.mjs'), 'audit', 'export', '--format', format],
      { env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let bytes = 0;
    let peakKb = 0;
    const sampler = setInterval(() => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
      } catch {
        // exited
      }
    }, 50);
    child.stdout.on('data', (chunk) => (bytes += chunk.length));
    const code = await new Promise((resolve) => child.on('close', resolve));
    clearInterval(sampler);
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `${format}: exit ${code}, ${EVENTS} events, ${(bytes / 1e6).toFixed(0)} MB in ${seconds.toFixed(1)} s ` +
        `→ ${Math.round(EVENTS / seconds).toLocaleString('en')} events/s (incl. ~startup), ` +
        `peak RSS ${(peakKb / 1024).toFixed(0)} MB; load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
    );
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  rmSync(dataDir, { recursive: true, force: true });
}
