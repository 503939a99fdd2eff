// Shared pieces of the index benchmarks: start the built server, seed an account, build
// distributions, and drive HTTP load with a fixed number of keep-alive connections.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import yazl from 'yazl';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export function baseEnv(extra) {
  return { PATH: process.env.PATH, LARDER_LOG_LEVEL: 'warn', LARDER_PLUGINS: '', ...extra };
}

/** The password {@link seedAccount} gives `bench`. */
export const BENCH_PASSWORD = 'Loaf-of-rye-9731!';

/** `larder user create` + `token create`, before the server holds the data dir. */
export function seedAccount(env) {
  const cli = (args, input) =>
    execFileSync(process.execPath, [join(root, 'bin/larder.mjs'), ...args], {
      env: baseEnv(env),
      input,
      stdio: ['pipe', 'pipe', 'inherit'],
    })
      .toString()
      .trim();
  cli(
    ['user', 'create', 'bench', '--email', 'bench@example.test', '--password-stdin'],
    `${BENCH_PASSWORD}\n`,
  );
  return cli(['token', 'create', 'bench', '--name', 'bench']).split('\n').pop();
}

/** The CSRF token of a page's form. */
export const csrfOf = (html) => /name="csrf_token" value="([0-9a-f]+)"/.exec(html)[1];

/** Signs `username` in through the form; returns the session's Cookie header. */
export async function signIn(base, username = 'bench', password = BENCH_PASSWORD) {
  const jar = new Map();
  const keep = (res) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const page = await fetch(`${base}/account/login/`);
  keep(page);
  const res = await fetch(`${base}/account/login/`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie() },
    body: new URLSearchParams({ username, password, csrf_token: csrfOf(await page.text()) }),
  });
  if (res.status !== 303) throw new Error(`sign-in of ${username}: ${res.status}`);
  keep(res);
  return cookie();
}

/** Starts `dist/src/main.js`; `nodeArgs` e.g. `['--cpu-prof', '--cpu-prof-dir=…']` to profile it. */
export async function startServer(env, nodeArgs = []) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'dist/src/main.js')], {
    env: baseEnv({ PORT: String(port), ...env }),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    port,
    pid: child.pid,
    base: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function zip(entries) {
  const z = new yazl.ZipFile();
  for (const [path, content] of Object.entries(entries)) z.addBuffer(Buffer.from(content), path);
  z.end();
  return new Promise((resolve) => {
    const chunks = [];
    z.outputStream.on('data', (c) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

async function tgz(entries) {
  const pack = tarStream.pack();
  const chunks = [];
  pack.on('data', (c) => chunks.push(c));
  const done = new Promise((r) => pack.on('end', r));
  for (const [name, content] of Object.entries(entries)) pack.entry({ name }, content);
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

/** A wheel and an sdist of `name` at `version`. */
export async function distributions(name, version) {
  const stem = `${name.replace(/-/g, '_')}-${version}`;
  const meta = `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: bench\nRequires-Python: >=3.8\n\nBench.\n`;
  const wheel = await zip({
    [`${name.replace(/-/g, '_')}/__init__.py`]: `V = "${version}"\n`,
    [`${stem}.dist-info/METADATA`]: meta,
    [`${stem}.dist-info/WHEEL`]: 'Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
    [`${stem}.dist-info/RECORD`]: '',
  });
  const sdist = await tgz({ [`${stem}/PKG-INFO`]: meta, [`${stem}/pyproject.toml`]: '' });
  return [
    {
      filename: `${stem}-py3-none-any.whl`,
      bytes: wheel,
      filetype: 'bdist_wheel',
      pyversion: 'py3',
    },
    { filename: `${stem}.tar.gz`, bytes: sdist, filetype: 'sdist', pyversion: 'source' },
  ];
}

export async function uploadFile(base, token, name, version, file) {
  const form = new FormData();
  const fields = {
    ':action': 'file_upload',
    protocol_version: '1',
    name,
    version,
    filetype: file.filetype,
    pyversion: file.pyversion,
    metadata_version: '2.1',
    requires_python: '>=3.8',
    sha256_digest: createHash('sha256').update(file.bytes).digest('hex'),
  };
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('content', new Blob([file.bytes]), file.filename);
  const res = await fetch(`${base}/legacy/`, {
    method: 'POST',
    body: form,
    headers: { Authorization: `Basic ${Buffer.from(`__token__:${token}`).toString('base64')}` },
  });
  if (res.status !== 200)
    throw new Error(`upload of ${file.filename}: ${res.status} ${res.statusText}`);
}

/**
 * `connections` keep-alive connections GET `path` for `seconds`; returns requests/s and latency
 * percentiles (ms). Every answer must have status `expect` (others count as errors).
 *
 * Driven by `wrk` (Debian's package) when it is installed, else by Node's own http client:
 * the generator shares the two CPUs with the server, and wrk (C, epoll) needs a fraction of
 * what a Node client spends per request, so it leaves the server — and the ceiling — more of
 * the machine. LARDER_BENCH_LOADGEN=node forces the Node client.
 */
export async function load(port, path, headers, options = {}) {
  return loadGenerator() === 'wrk'
    ? wrkLoad(port, path, headers, options)
    : nodeLoad(port, path, headers, options);
}

/** CPU seconds (user + system) used so far by each of `pids` that still runs (Linux /proc). */
export function cpuSeconds(pids) {
  const ticks = 100; // USER_HZ: 100 on Linux (sysconf(_SC_CLK_TCK))
  const used = new Map();
  for (const pid of pids) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      used.set(pid, (Number(fields[11]) + Number(fields[12])) / ticks);
    } catch {
      /* gone */
    }
  }
  return used;
}

let generator;
/** `wrk` when installed (and not overridden), else `node`. */
export function loadGenerator() {
  if (generator === undefined) {
    const wanted = process.env.LARDER_BENCH_LOADGEN;
    const hasWrk = spawnSync('wrk', ['--version']).error === undefined;
    generator = wanted === 'node' || !hasWrk ? 'node' : 'wrk';
  }
  return generator;
}

// Counts answers whose status is not EXPECT (per thread, summed at the end) and prints what
// the bench needs in a form easy to parse; latencies are in microseconds.
const WRK_SCRIPT = `
bad = 0
local expect = tonumber(os.getenv("EXPECT"))
local threads = {}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body) if status ~= expect then bad = bad + 1 end end
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  for _, t in ipairs(threads) do errors = errors + t:get("bad") end
  io.write(string.format("RESULT %d %d %d %f %f\\n", summary.requests, summary.duration, errors,
    latency:percentile(50), latency:percentile(99)))
end
`;

async function wrkLoad(port, path, headers, { connections = 32, seconds = 8, expect = 200 } = {}) {
  const script = `${tmpdir()}/larder-bench-wrk-${process.pid}.lua`;
  writeFileSync(script, WRK_SCRIPT);
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', script];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(`http://127.0.0.1:${port}${path}`);
  const out = await new Promise((resolve, reject) =>
    execFile('wrk', args, { env: { ...process.env, EXPECT: String(expect) } }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    ),
  ).finally(() => rmSync(script, { force: true }));
  const match = /RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)/.exec(out);
  if (!match) throw new Error(`unexpected wrk output: ${out}`);
  const [requests, durationUs, errors, p50, p99] = match.slice(1).map(Number);
  return {
    rps: requests / (durationUs / 1e6),
    p50: p50 / 1000,
    p99: p99 / 1000,
    requests,
    errors,
  };
}

async function nodeLoad(port, path, headers, { connections = 32, seconds = 8, expect = 200 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const one = () =>
    new Promise((resolve) => {
      const started = performance.now();
      const req = http.get({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          if (res.statusCode !== expect) errors++;
          latencies.push(performance.now() - started);
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p) =>
    latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))];
  return {
    rps: latencies.length / elapsed,
    p50: pct(50),
    p99: pct(99),
    requests: latencies.length,
    errors,
  };
}
