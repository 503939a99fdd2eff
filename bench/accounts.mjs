// Sign-in and token-authenticated request throughput against the built server, on a new
// embedded data dir (or DATABASE_URL's server). Also times one argon2id verification with the
// parameters Larder uses. Prints figures; it does not pass or fail.
// Usage: npm run bench:accounts [-- REQUESTS CONCURRENCY]
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hash, verify } from '@node-rs/argon2';
import { ensureBuild } from '../scripts/ensure-build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const requests = Number(process.argv[2] ?? 200);
const concurrency = Number(process.argv[3] ?? 4);
ensureBuild();
const { ARGON2_OPTIONS } = await import(join(root, 'dist/src/accounts/users/password.service.js'));

const dataDir = mkdtempSync(join(tmpdir(), 'larder-bench-accounts-'));
// Reuse the test suite's initialised PGlite template when present: skips a slow initdb.
const cache = join(root, 'node_modules/.cache');
const template = existsSync(cache)
  ? readdirSync(cache).find((d) => d.startsWith('larder-pglite-template-'))
  : undefined;
if (template && !process.env.DATABASE_URL)
  cpSync(join(cache, template), join(dataDir, 'pg'), { recursive: true });
const env = {
  PATH: process.env.PATH,
  LARDER_DATA_DIR: dataDir,
  LARDER_PLUGINS: '',
  LARDER_LOG_LEVEL: 'warn',
  // The benchmark signs in far more often than a person would.
  LARDER_LOGIN_FAILURES_PER_IP: '100000',
  ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
};
const suffix = Date.now().toString(36);
const username = `bench-${suffix}`;
const password = 'benchmark passphrase 42';

function larder(args, input = '') {
  const result = spawnSync(process.execPath, [join(root, 'bin/larder.mjs'), ...args], {
    env,
    input,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`larder ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

function stats(ms) {
  const sorted = [...ms].sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return `p50 ${pct(50).toFixed(1)} ms, p95 ${pct(95).toFixed(1)} ms, max ${sorted.at(-1).toFixed(1)} ms`;
}

/** Runs `task` `count` times with `parallel` in flight; returns per-call ms and requests/s. */
async function load(count, parallel, task) {
  const times = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        next += 1;
        const t0 = performance.now();
        await task();
        times.push(performance.now() - t0);
      }
    }),
  );
  return { times, perSecond: (count / (performance.now() - started)) * 1000 };
}

// 1. argon2id alone.
const stored = await hash(password, ARGON2_OPTIONS);
const argon = [];
for (let i = 0; i < 20; i++) {
  const t0 = performance.now();
  await verify(stored, password);
  argon.push(performance.now() - t0);
}
console.log(
  `argon2id verify (m=${ARGON2_OPTIONS.memoryCost} KiB, t=${ARGON2_OPTIONS.timeCost}, p=${ARGON2_OPTIONS.parallelism}): ${stats(argon)}`,
);

larder(
  ['user', 'create', username, '--email', `${username}@bench.test`, '--password-stdin'],
  password,
);
const token = larder(['token', 'create', username, '--name', 'bench']);

const port = 20000 + Math.floor(Math.random() * 20000);
const child = spawn(process.execPath, [join(root, 'dist/src/main.js')], {
  env: { ...env, PORT: String(port) },
  stdio: 'ignore',
});
const base = `http://127.0.0.1:${port}`;
try {
  for (let deadline = Date.now() + 60_000; ;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }

  // 2. Sign-in: the form POST (CSRF token fetched beforehand, not timed).
  const form = await fetch(`${base}/account/login/`);
  const cookie = form.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const csrf = /name="csrf_token" value="([0-9a-f]{64})"/.exec(await form.text())[1];
  const body = new URLSearchParams({ username, password, csrf_token: csrf }).toString();
  const signIn = async () => {
    const res = await fetch(`${base}/account/login/`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
  };
  const logins = Math.max(20, Math.floor(requests / 5));
  for (const parallel of [1, concurrency]) {
    const { times, perSecond } = await load(logins, parallel, signIn);
    console.log(
      `sign-in, ${logins} × ${parallel} in flight: ${perSecond.toFixed(1)}/s; ${stats(times)}`,
    );
  }

  // 3. Token-authenticated requests (HTTP Basic, as twine and pip send it).
  const auth = `Basic ${Buffer.from(`__token__:${token}`).toString('base64')}`;
  const whoami = async () => {
    const res = await fetch(`${base}/api/v1/account`, { headers: { authorization: auth } });
    if (res.status !== 200) throw new Error(`token request answered ${res.status}`);
    await res.arrayBuffer();
  };
  await load(50, concurrency, whoami); // warm-up
  for (const parallel of [1, concurrency]) {
    const { times, perSecond } = await load(requests, parallel, whoami);
    console.log(
      `GET /api/v1/account with a token, ${requests} × ${parallel} in flight: ${perSecond.toFixed(1)}/s; ${stats(times)}`,
    );
  }
  console.log(`database: ${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded (PGlite)'}`);
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}
