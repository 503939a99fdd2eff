// /simple/<name>/ for a project with 200 files, 32 connections: Larder on the embedded database
// and on a PostgreSQL server, side by side with a plain Node http server answering the same bytes
// from memory (the ceiling). Prints figures; it does not pass or fail.
// Usage: npm run bench:simple [-- SECONDS [embedded|server]]   (both by default; the server is
// DATABASE_URL or the local one at 127.0.0.1:5432)
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensureBuild } from '../scripts/ensure-build.mjs';
import {
  cpuSeconds,
  distributions,
  load,
  loadGenerator,
  seedAccount,
  startServer,
  uploadFile,
} from './lib.mjs';

const seconds = Number(process.argv[2] ?? 8);
const only = process.argv[3];
const PIP_ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
ensureBuild();
console.log(`load generator: ${loadGenerator()}, 32 connections, ${seconds} s per figure`);

async function seed(server, token) {
  // 100 versions × (wheel + sdist) = 200 files.
  for (let i = 0; i < 100; i++) {
    for (const file of await distributions('bench-pkg', `1.${i}`)) {
      await uploadFile(server.base, token, 'bench-pkg', `1.${i}`, file);
    }
  }
}

function ceiling(bodies) {
  const server = http.createServer((req, res) => {
    const json = (req.headers.accept ?? '').includes('v1+json');
    const body = json ? bodies.json : bodies.html;
    res.writeHead(200, {
      'Content-Type': json ? 'application/vnd.pypi.simple.v1+json' : 'text/html',
      'Content-Length': body.length,
      Vary: 'Accept',
    });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const rows = [];
function row(label, r) {
  rows.push({ label, ...r });
  const db = r.dbCpuMs ? ` of which PostgreSQL ${r.dbCpuMs.toFixed(2)}` : '';
  const cpu = r.cpuMs === undefined ? '' : `, ${r.cpuMs.toFixed(2)} CPU-ms/request${db}`;
  console.log(
    `${label.padEnd(40)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${r.p50.toFixed(2).padStart(6)} ms   p99 ${r.p99.toFixed(2).padStart(6)} ms   (${r.requests} requests, ${r.errors} errors${cpu})`,
  );
}

/**
 * `load`, plus the CPU time the serving side spent per request: on a machine shared with other
 * work, requests/s follow the load average, CPU per request much less. `pids()` lists the
 * serving processes (Larder's node, and the PostgreSQL backends of its pool); for the ceiling,
 * served in this process, it is this process's own CPU (fair only when wrk is the generator).
 */
async function measured(pids, ...args) {
  const own = pids === 'self';
  const before = own ? process.cpuUsage() : cpuSeconds(await pids());
  const result = await load(...args);
  let seconds;
  let dbSeconds = 0;
  if (own) {
    const used = process.cpuUsage(before);
    seconds = (used.user + used.system) / 1e6;
  } else {
    const serving = await pids();
    const after = cpuSeconds(serving);
    seconds = 0;
    for (const [pid, s] of after) {
      seconds += s - (before.get(pid) ?? 0);
      if (pid !== serving[0]) dbSeconds += s - (before.get(pid) ?? 0);
    }
  }
  if (own && loadGenerator() !== 'wrk') return result;
  return {
    ...result,
    cpuMs: (1000 * seconds) / result.requests,
    dbCpuMs: (1000 * dbSeconds) / result.requests,
  };
}

async function measure(label, env) {
  const token = seedAccount(env);
  const server = await startServer(env);
  let db;
  if (env.DATABASE_URL) {
    db = new pg.Client({ connectionString: env.DATABASE_URL });
    await db.connect();
  }
  // Larder's process and, on a server, the backends serving its connections.
  const pids = async () => {
    if (!db) return [server.pid];
    const { rows } = await db.query(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return [server.pid, ...rows.map((r) => r.pid)];
  };
  try {
    const t0 = performance.now();
    await seed(server, token);
    console.log(`${label}: seeded 200 files in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const html = Buffer.from(await (await fetch(`${server.base}/simple/bench-pkg/`)).arrayBuffer());
    const json = Buffer.from(
      await (
        await fetch(`${server.base}/simple/bench-pkg/`, { headers: { Accept: PIP_ACCEPT } })
      ).arrayBuffer(),
    );
    console.log(`${label}: page sizes JSON ${json.length} B, HTML ${html.length} B`);
    await load(server.port, '/simple/bench-pkg/', { Accept: PIP_ACCEPT }, { seconds: 2 }); // warm-up
    row(
      `Larder ${label}, JSON (pip Accept)`,
      await measured(pids, server.port, '/simple/bench-pkg/', { Accept: PIP_ACCEPT }, { seconds }),
    );
    row(
      `Larder ${label}, HTML`,
      await measured(pids, server.port, '/simple/bench-pkg/', {}, { seconds }),
    );
    const etag = (
      await fetch(`${server.base}/simple/bench-pkg/`, { headers: { Accept: PIP_ACCEPT } })
    ).headers.get('etag');
    row(
      `Larder ${label}, JSON If-None-Match → 304`,
      await measured(
        pids,
        server.port,
        '/simple/bench-pkg/',
        { Accept: PIP_ACCEPT, 'If-None-Match': etag },
        { seconds, expect: 304 },
      ),
    );
    row(
      `Larder ${label}, /healthz`,
      await measured(pids, server.port, '/healthz', {}, { seconds }),
    );
    // The ceiling right after, on the same bytes: machines shared with other work drift.
    const plain = await ceiling({ json, html });
    const port = plain.address().port;
    await load(port, '/', { Accept: PIP_ACCEPT }, { seconds: 2 });
    row(
      `plain node http (ceiling, ${label}), JSON`,
      await measured('self', port, '/', { Accept: PIP_ACCEPT }, { seconds }),
    );
    plain.close();
    console.log(
      `load average: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${cpus().length} CPUs`,
    );
    return { json, html };
  } finally {
    await db?.end();
    await server.stop();
  }
}

if (only !== 'server') {
  const dir = mkdtempSync(join(tmpdir(), 'larder-bench-simple-'));
  try {
    await measure('embedded', { LARDER_DATA_DIR: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
if (only !== 'embedded')
  try {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    const name = `larder_bench_simple_${process.pid}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'larder-bench-simple-pg-'));
    try {
      await measure('server PG', { DATABASE_URL: url.toString(), LARDER_DATA_DIR: dataDir });
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      rmSync(dataDir, { recursive: true, force: true });
    }
  } catch (error) {
    console.log(`server PG: skipped (${error.message})`);
  }

for (const r of rows.filter((x) => x.label.startsWith('Larder') && !x.label.endsWith('healthz'))) {
  const mode = r.label.includes('embedded') ? 'embedded' : 'server PG';
  const beside = rows.find((x) => x.label === `plain node http (ceiling, ${mode}), JSON`);
  console.log(
    `${r.label.padEnd(44)} ${((100 * r.rps) / beside.rps).toFixed(0)} % of the ceiling measured beside it`,
  );
}
