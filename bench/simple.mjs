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
  console.log(
    `${label.padEnd(40)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${r.p50.toFixed(2).padStart(6)} ms   p99 ${r.p99.toFixed(2).padStart(6)} ms   (${r.requests} requests, ${r.errors} errors)`,
  );
}

async function measure(label, env) {
  const token = seedAccount(env);
  const server = await startServer(env);
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
      await load(server.port, '/simple/bench-pkg/', { Accept: PIP_ACCEPT }, { seconds }),
    );
    row(`Larder ${label}, HTML`, await load(server.port, '/simple/bench-pkg/', {}, { seconds }));
    const etag = (
      await fetch(`${server.base}/simple/bench-pkg/`, { headers: { Accept: PIP_ACCEPT } })
    ).headers.get('etag');
    row(
      `Larder ${label}, JSON If-None-Match → 304`,
      await load(
        server.port,
        '/simple/bench-pkg/',
        { Accept: PIP_ACCEPT, 'If-None-Match': etag },
        { seconds, expect: 304 },
      ),
    );
    // The ceiling right after, on the same bytes: machines shared with other work drift.
    const plain = await ceiling({ json, html });
    const port = plain.address().port;
    await load(port, '/', { Accept: PIP_ACCEPT }, { seconds: 2 });
    row(
      `plain node http (ceiling, ${label}), JSON`,
      await load(port, '/', { Accept: PIP_ACCEPT }, { seconds }),
    );
    plain.close();
    console.log(
      `load average: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${cpus().length} CPUs`,
    );
    return { json, html };
  } finally {
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

for (const r of rows.filter((x) => x.label.startsWith('Larder'))) {
  const mode = r.label.includes('embedded') ? 'embedded' : 'server PG';
  const beside = rows.find((x) => x.label === `plain node http (ceiling, ${mode}), JSON`);
  console.log(
    `${r.label.padEnd(44)} ${((100 * r.rps) / beside.rps).toFixed(0)} % of the ceiling measured beside it`,
  );
}
