// `npm run bench:audit-cost`: what auditing costs a write. Two servers run side by side, one
// with the audit plugin (LARDER_PLUGINS=audit) and one without (LARDER_PLUGINS=), each on a
// fresh database of the PostgreSQL server (DATABASE_URL, or the local one; `--embedded` uses
// embedded PostgreSQL instead). In pairs, one server right after the other in alternating
// order, both do the same uploads (twine's multipart POST /legacy/ of a small wheel) and
// API-token creations through the web form (the tokens created are deleted between rounds, so
// the page lists a handful). Prints medians and the ratio audited / not audited, per pair and
// of the medians (target: under 1.10) with a 95% interval from resampling the rounds, for
// each operation and for the two together, and the CPU time each operation took in the
// server's process and in its PostgreSQL backends (Linux /proc): latency on a shared machine
// moves by a few percent between runs, CPU time much less, and it says which side the cost
// is on.
// Prints figures; it does not pass or fail.
// Usage: npm run bench:audit-cost [-- ROUNDS PER_ROUND] [--embedded]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensureBuild } from '../scripts/ensure-build.mjs';
import {
  BENCH_PASSWORD,
  cpuSeconds,
  csrfOf,
  distributions,
  seedAccount,
  signIn,
  startServer,
  uploadFile,
} from './lib.mjs';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const embedded = process.argv.includes('--embedded');
const ROUNDS = Number(args[0] ?? 7);
const PER_ROUND = Number(args[1] ?? 20);
ensureBuild();

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/** Signs `bench` in: the session's cookies and the token form's CSRF token. */
async function session(base) {
  const cookie = await signIn(base);
  const tokens = await fetch(`${base}/manage/account/token/`, { headers: { Cookie: cookie } });
  return { cookie, csrf: csrfOf(await tokens.text()) };
}

async function createToken(server, name) {
  const res = await fetch(`${server.base}/manage/account/token/`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Cookie: server.session.cookie,
    },
    // The password too: a long run outlives the "recently signed in" window.
    body: new URLSearchParams({
      csrf_token: server.session.csrf,
      name,
      scope: 'account',
      confirm_password: BENCH_PASSWORD,
    }),
  });
  if (res.status !== 200) throw new Error(`token ${name}: ${res.status}`);
  await res.arrayBuffer();
}

async function databases() {
  if (embedded) {
    const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'larder-bench-audit-cost-')));
    return {
      envs: dirs.map((dir) => ({ LARDER_DATA_DIR: dir })),
      async drop() {
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const names = ['on', 'off'].map((v) => `larder_bench_audit_cost_${v}_${process.pid}`);
  const dirs = names.map(() => mkdtempSync(join(tmpdir(), 'larder-bench-audit-cost-')));
  const envs = [];
  for (const [i, name] of names.entries()) {
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    envs.push({ DATABASE_URL: url.toString(), LARDER_DATA_DIR: dirs[i] });
  }
  return {
    envs,
    /** The pids of the backends connected to variant `i`'s database. */
    async backends(i) {
      const { rows } = await admin.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [
        names[i],
      ]);
      return rows.map((r) => r.pid);
    },
    async dropTokens() {
      for (const env of envs) {
        const db = new pg.Client({ connectionString: env.DATABASE_URL });
        await db.connect();
        await db.query(`DELETE FROM api_tokens WHERE name ~ '^(t|warm-)[0-9]+$'`);
        await db.end();
      }
    },
    async drop() {
      for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

const dbs = await databases();
const variants = [
  { label: 'audit plugin loaded', env: { ...dbs.envs[0], LARDER_PLUGINS: 'audit' } },
  { label: 'no plugins', env: { ...dbs.envs[1], LARDER_PLUGINS: '' } },
];
try {
  console.log(`load average at start: ${load()} on ${cpus().length} CPUs`);
  // The wheels, built before any timing: version i of bench-pkg for both servers.
  const total = 10 + ROUNDS * PER_ROUND;
  const wheels = [];
  for (let i = 0; i < total; i++) wheels.push((await distributions('bench-pkg', `1.${i}`))[0]);
  for (const [i, v] of variants.entries()) {
    v.index = i;
    v.token = seedAccount(v.env);
    v.server = await startServer(v.env);
    v.server.session = await session(v.server.base);
    v.next = 0;
    v.uploads = [];
    v.tokens = [];
    v.cpu = { uploads: { node: 0, pg: 0, n: 0 }, tokens: { node: 0, pg: 0, n: 0 } };
  }
  /** CPU seconds so far of `v`'s server process and of its database's backends. */
  const cpuOf = async (v) => {
    const node = cpuSeconds([v.server.pid]).get(v.server.pid) ?? NaN;
    if (!dbs.backends) return { node, pg: new Map() }; // embedded: the database is in the process
    return { node, pg: cpuSeconds(await dbs.backends(v.index)) };
  };
  const upload = (v) => {
    const i = v.next++;
    return uploadFile(v.server.base, v.token, 'bench-pkg', `1.${i}`, wheels[i]);
  };
  const timed = async (fn) => {
    const started = performance.now();
    await fn();
    return performance.now() - started;
  };
  // Warm-up: first project creation, plans, JIT.
  for (const v of variants) {
    for (let i = 0; i < 10; i++) await upload(v);
    for (let i = 0; i < 10; i++) await createToken(v.server, `warm-${i}`);
  }
  // Pairs: the same operation on both servers back to back, the order alternating, so drift
  // (the other work on the machine, GC) touches both sides of each pair alike.
  const [on, off] = variants;
  const pairs = { uploads: [], tokens: [] };
  let n = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // The token page lists the account's tokens: keep it at an account's usual handful, or the
    // page (the same on both sides) grows with the run and dilutes the ratio.
    await dbs.dropTokens?.();
    for (const [key, op] of [
      ['uploads', (v) => upload(v)],
      ['tokens', (v) => createToken(v.server, `t${n++}`)],
    ]) {
      const before = [await cpuOf(on), await cpuOf(off)];
      for (let i = 0; i < PER_ROUND; i++) {
        const first = (round + i) % 2 ? on : off;
        const second = first === on ? off : on;
        const a = await timed(() => op(first));
        const b = await timed(() => op(second));
        const [msOn, msOff] = first === on ? [a, b] : [b, a];
        on[key].push(msOn);
        off[key].push(msOff);
        pairs[key].push(msOn / msOff);
      }
      for (const [j, v] of [on, off].entries()) {
        const after = await cpuOf(v);
        v.cpu[key].node += after.node - before[j].node;
        // Per backend: the pool opens and closes connections, and a backend that started
        // during the round spent all its time in it (one that ended is lost: rare).
        for (const [pid, seconds] of after.pg)
          v.cpu[key].pg += seconds - (before[j].pg.get(pid) ?? 0);
        v.cpu[key].n += PER_ROUND;
      }
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const byRound = (xs) =>
    Array.from({ length: ROUNDS }, (_, r) => xs.slice(r * PER_ROUND, (r + 1) * PER_ROUND));
  // Each side's timings split into rounds once, for the 2,000 resamplings below.
  const rounds = [on, off].map((v) => ({ uploads: byRound(v.uploads), tokens: byRound(v.tokens) }));
  /** Audited / not, of the medians of `keys` summed, over the rounds `picks`. */
  const ratioOf = (keys, picks) => {
    const sum = (side) =>
      keys.reduce((total, key) => total + median(picks.flatMap((r) => side[key][r])), 0);
    return sum(rounds[0]) / sum(rounds[1]);
  };
  const all = Array.from({ length: ROUNDS }, (_, r) => r);
  /**
   * A 95% interval for {@link ratioOf}: the rounds drawn again with replacement, 2,000 times
   * (whole rounds, not single pairs: a round's pairs share the machine's mood of that moment,
   * so they are not independent). Says whether one run's ratio tells the target apart.
   */
  const interval = (keys) => {
    const ratios = [];
    for (let i = 0; i < 2000; i++) {
      const picks = all.map(() => Math.floor(Math.random() * ROUNDS));
      ratios.push(ratioOf(keys, picks));
    }
    ratios.sort((x, y) => x - y);
    const [low, high] = [
      ratios[Math.floor(ratios.length * 0.025)],
      ratios[Math.floor(ratios.length * 0.975)],
    ];
    return `(95%: ${low.toFixed(3)}–${high.toFixed(3)})`;
  };
  console.log(
    `\n${ROUNDS} rounds x ${PER_ROUND} of each, in interleaved pairs; ${embedded ? 'embedded' : 'server'} PostgreSQL; medians of every operation, 95% intervals by resampling rounds`,
  );
  for (const [what, key] of [
    ['upload (POST /legacy/, small wheel)', 'uploads'],
    ['API token created (web form)', 'tokens'],
  ]) {
    const ratios = pairs[key];
    const q = (p) => [...ratios].sort((a, b) => a - b)[Math.floor((ratios.length * p) / 100)];
    console.log(
      `${what.padEnd(36)} audited ${median(on[key]).toFixed(1).padStart(6)} ms   ` +
        `not ${median(off[key]).toFixed(1).padStart(6)} ms   ` +
        `ratio of medians ${ratioOf([key], all).toFixed(3)} ${interval([key])}   ` +
        `median of ${ratios.length} paired ratios ${median(ratios).toFixed(3)} ` +
        `(quartiles ${q(25).toFixed(2)}–${q(75).toFixed(2)})`,
    );
  }
  // The issue's wording, "an upload and a token creation": the two as one piece of work.
  console.log(
    `${'an upload and a token creation'.padEnd(36)} ratio of the summed medians ` +
      `${ratioOf(['uploads', 'tokens'], all).toFixed(3)} ${interval(['uploads', 'tokens'])}`,
  );
  // /proc counts in 10 ms ticks: over a few hundred operations, to ~0.05 ms each.
  const perOp = (c, side) => ((c[side] / c.n) * 1000).toFixed(2).padStart(5);
  console.log(
    '\nCPU per operation, ms (audited / not): the server process | its PostgreSQL backends',
  );
  for (const [what, key] of [
    ['upload', 'uploads'],
    ['API token created', 'tokens'],
  ]) {
    const [a, b] = [on.cpu[key], off.cpu[key]];
    console.log(
      `${what.padEnd(36)} node ${perOp(a, 'node')} / ${perOp(b, 'node')}   ` +
        (embedded
          ? '(embedded: in the process)'
          : `PostgreSQL ${perOp(a, 'pg')} / ${perOp(b, 'pg')}`),
    );
  }
  if (!embedded) {
    // What the audited server recorded: every upload and token must be there.
    const db = new pg.Client({ connectionString: on.env.DATABASE_URL });
    await db.connect();
    const { rows } = await db.query(
      `SELECT tag, count(*)::int AS n FROM audit_events
        WHERE tag IN ('file:add', 'account:api_token:added') GROUP BY tag ORDER BY tag`,
    );
    await db.end();
    console.log(
      `audit_events of the audited server: ${rows.map((r) => `${r.tag} ${r.n}`).join(', ')}`,
    );
  }
  console.log(`load average at end: ${load()} on ${cpus().length} CPUs`);
} finally {
  for (const v of variants) await v.server?.stop();
  await dbs.drop();
}
