// Cold start to the first healthy /healthz: on a new embedded data dir (initdb included), on an
// existing one, and on a PostgreSQL server (DATABASE_URL, or the local one at 127.0.0.1:5432 if
// it answers). Prints figures; it does not pass or fail. Usage: npm run bench:startup [-- RUNS]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ensureBuild } from '../scripts/ensure-build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 3);
ensureBuild();

async function waitHealthy(port, deadline) {
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('not healthy in time');
}

/** Spawns the server and returns ms from spawn to the first 200 from /healthz. */
async function coldStart(env) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const started = performance.now();
  const child = spawn(process.execPath, [join(root, 'dist/src/main.js')], {
    env: {
      PATH: process.env.PATH,
      LARDER_LOG_LEVEL: 'warn',
      LARDER_PLUGINS: '',
      PORT: String(port),
      ...env,
    },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    await waitHealthy(port, Date.now() + 120_000);
    return performance.now() - started;
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

function summary(label, samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(
    `${label.padEnd(34)} median ${median.toFixed(0).padStart(6)} ms   min ${sorted[0].toFixed(0).padStart(6)} ms   max ${sorted.at(-1).toFixed(0).padStart(6)} ms   (n=${samples.length})`,
  );
  return median;
}

const fresh = [];
const existing = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'larder-bench-'));
  try {
    fresh.push(await coldStart({ LARDER_DATA_DIR: dir }));
    existing.push(await coldStart({ LARDER_DATA_DIR: dir }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const server = [];
let serverNote = '';
try {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  for (let i = 0; i < runs; i++) {
    const name = `larder_bench_${process.pid}_${i}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const dir = mkdtempSync(join(tmpdir(), 'larder-bench-'));
    try {
      server.push(await coldStart({ LARDER_DATA_DIR: dir, DATABASE_URL: url.toString() }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  }
  await admin.end();
} catch (error) {
  serverNote = `server database not measured: ${error.message}`;
}

console.log(`Larder cold start to first healthy /healthz (${runs} runs each)`);
const base = summary('embedded, new data dir (initdb)', fresh);
summary('embedded, existing data dir', existing);
if (server.length) summary('PostgreSQL server, new database', server);
else console.log(serverNote);
console.log(
  `ratio existing/new embedded: ${(existing.sort((a, b) => a - b)[Math.floor(runs / 2)] / base).toFixed(2)}`,
);
