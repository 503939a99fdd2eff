// Profiles the built server under the /simple/<name>/ load of bench:simple: starts it with
// `node --cpu-prof`, seeds 200 files, drives 32 connections at each route, stops it and prints
// the heaviest functions (self time) of the profile. Not a benchmark: the profiler slows
// everything; read it for where the time goes. The .cpuprofile stays for Chrome DevTools.
// Usage: node bench/profile-simple.mjs [SECONDS] [embedded|server] [simple|healthz]   (server: DATABASE_URL or
// the local server at 127.0.0.1:5432)
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensureBuild } from '../scripts/ensure-build.mjs';
import { distributions, load, seedAccount, startServer, uploadFile } from './lib.mjs';

const seconds = Number(process.argv[2] ?? 8);
const mode = process.argv[3] ?? 'server';
const PIP_ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
ensureBuild();

const dataDir = mkdtempSync(join(tmpdir(), 'larder-profile-'));
const profDir = join(dataDir, 'prof');
const env = { LARDER_DATA_DIR: dataDir };
let admin;
if (mode === 'server') {
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const name = `larder_profile_${process.pid}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  env.DATABASE_URL = url.toString();
}
const token = seedAccount(env);
const server = await startServer(env, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
for (let i = 0; i < 100; i++) {
  for (const file of await distributions('bench-pkg', `1.${i}`)) {
    await uploadFile(server.base, token, 'bench-pkg', `1.${i}`, file);
  }
}
const report = (label, r) =>
  console.log(
    `${label.padEnd(24)} ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ${r.errors} errors`,
  );
await load(server.port, '/simple/bench-pkg/', { Accept: PIP_ACCEPT }, { seconds: 2 }); // warm-up
const marks = [performance.now()];
report(
  'simple JSON',
  await load(server.port, '/simple/bench-pkg/', { Accept: PIP_ACCEPT }, { seconds }),
);
marks.push(performance.now());
report('healthz', await load(server.port, '/healthz', {}, { seconds }));
marks.push(performance.now());
await server.stop();
const stopped = performance.now();
if (admin) {
  await admin.query(`DROP DATABASE IF EXISTS larder_profile_${process.pid} WITH (FORCE)`);
  await admin.end();
}

// Self time per function (and per package for node_modules), heaviest first.
const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8'));
const self = new Map();
const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
// Only the samples taken under load: the profile's clock is not ours, so the windows are
// placed back from its end (the shutdown after the load takes a few ms).
const phase = process.argv[4] === 'healthz' ? 1 : 0;
const from = profile.endTime - (stopped - marks[phase]) * 1000;
const to = profile.endTime - (stopped - marks[phase + 1]) * 1000;
const dt = new Map();
let at = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  at += profile.timeDeltas[i] ?? 0;
  if (at < from || at > to) continue;
  dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const packages = new Map();
let total = 0;
for (const [id, us] of dt) {
  const node = byNode.get(id);
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^.*node_modules\//, 'nm:').replace(/^file:\/\/.*\/dist\//, 'dist/');
  const key = `${functionName || '(anon)'} ${where}:${lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + us);
  const pkg = url.includes('node_modules/')
    ? url.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1')
    : url.includes('/dist/')
      ? 'larder'
      : url
        ? 'node:internal'
        : functionName;
  packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  total += us;
}
const top = (m, n) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`)
    .join('\n');
console.log(
  `\nby package (self time):\n${top(packages, 20)}\n\nby function (self time):\n${top(self, 40)}`,
);
console.log(`\nprofile: ${join(profDir, file)}`);
