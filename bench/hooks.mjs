// `npm run bench:hooks`: what the hook bus costs on an upload-shaped write — before-hooks on
// file.uploading, then a transaction inserting a release and a file with file.uploaded's
// transaction and after hooks — with 0, 1 and 10 no-op plugins subscribed to each phase.
// Prints per-operation medians and their ratio to 0 plugins (target: under 1.05 at 10).
// Embedded PostgreSQL by default; DATABASE_URL runs it on a server. Not a test: it prints figures.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { ensureBuild } from '../scripts/ensure-build.mjs';

ensureBuild();
const { HookBus } = await import('../dist/src/hooks/hook-bus.js');
const { createDataSource, coreSchema } = await import('../dist/src/database/data-source.js');
const { startEmbeddedPostgres } = await import('../dist/src/database/embedded-postgres.js');
const { runInContext } = await import('../dist/src/context/request-context.js');

const ROUNDS = Number(process.env.ROUNDS ?? 9);
const PER_ROUND = Number(process.env.PER_ROUND ?? 400);

const dir = mkdtempSync(join(tmpdir(), 'larder-bench-hooks-'));
let embedded;
let target;
if (process.env.DATABASE_URL) {
  target = { kind: 'server', url: process.env.DATABASE_URL, close: async () => {} };
} else {
  embedded = await startEmbeddedPostgres(dir);
  target = { kind: 'embedded', host: embedded.host, port: embedded.port, close: embedded.close };
}
const dataSource = createDataSource(target, coreSchema);
await dataSource.initialize();
await dataSource.query('DROP TABLE IF EXISTS bench_files, bench_releases');
await dataSource.query(
  'CREATE TABLE bench_releases (id serial PRIMARY KEY, version text NOT NULL)',
);
await dataSource.query(
  'CREATE TABLE bench_files (id serial PRIMARY KEY, release_id int NOT NULL REFERENCES bench_releases(id), filename text NOT NULL, size bigint NOT NULL, sha256 text NOT NULL)',
);

const logger = pino({ level: 'silent' });
const config = { hookTimeoutMs: 5000 };

/** A bus with `n` no-op plugins, each subscribed to every phase of the upload's hooks. */
function busWith(n) {
  const bus = new HookBus(dataSource, config, logger);
  for (let i = 0; i < n; i++) {
    const plugin = `noop-${i}`;
    bus.on('file.uploading', 'before', () => {}, { plugin });
    bus.on('file.uploaded', 'transaction', () => {}, { plugin });
    bus.on('file.uploaded', 'after', () => {}, { plugin });
  }
  return bus;
}

const project = { id: 'p1', name: 'acme-widgets', normalizedName: 'acme-widgets' };
const context = {
  requestId: 'bench',
  ip: '192.0.2.1',
  userAgent: 'bench',
  route: 'POST /legacy/',
  actor: { kind: 'user', userId: 'u1', username: 'alice', isAdmin: false },
};

let counter = 0;
async function upload(bus) {
  counter += 1;
  const filename = `acme_widgets-${counter}.0-py3-none-any.whl`;
  const file = { filename, size: 12345, sha256: 'ab'.repeat(32) };
  await bus.runBefore('file.uploading', {
    project,
    projectName: project.name,
    version: `${counter}.0`,
    file,
  });
  await bus.perform(
    'file.uploaded',
    (ids) => ({
      project,
      release: { id: String(ids.release), version: `${counter}.0`, canonicalVersion: `${counter}` },
      file: { ...file, id: String(ids.file) },
    }),
    async (manager) => {
      const [release] = await manager.query(
        'INSERT INTO bench_releases (version) VALUES ($1) RETURNING id',
        [`${counter}.0`],
      );
      const [row] = await manager.query(
        'INSERT INTO bench_files (release_id, filename, size, sha256) VALUES ($1, $2, $3, $4) RETURNING id',
        [release.id, filename, file.size, file.sha256],
      );
      return { release: release.id, file: row.id };
    },
  );
}

const variants = [0, 1, 10].map((n) => ({
  n,
  bus: busWith(n),
  samples: [],
  ratios: [],
  overhead: [],
}));
const timeIt = async (fn, count) => {
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await fn();
  return Number(process.hrtime.bigint() - started) / 1e3 / count;
};
// The bus alone: the same calls joining a caller's manager with a no-op change, so no database
// work hides (or adds noise to) what dispatching to the plugins costs.
const busOnly = (bus) =>
  bus
    .runBefore('file.uploading', {
      project,
      projectName: project.name,
      version: '1.0',
      file: { filename: 'x.whl', size: 1 },
    })
    .then(() =>
      bus.perform(
        'file.uploaded',
        {
          project,
          release: { id: '1', version: '1.0', canonicalVersion: '1' },
          file: { filename: 'x.whl', size: 1 },
        },
        async () => 0,
        {
          manager: dataSource.manager,
        },
      ),
    );

await runInContext(context, async () => {
  for (const v of variants) for (let i = 0; i < 50; i++) await upload(v.bus); // warm-up
  // Interleaved rounds, in a rotating order, each variant compared with 0 plugins of the same
  // round: drift (other processes, caches, GC) touches every variant alike.
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...variants.slice(round % 3), ...variants.slice(0, round % 3)];
    for (const v of order) v.samples.push(await timeIt(() => upload(v.bus), PER_ROUND));
    for (const v of variants) v.ratios.push(v.samples[round] / variants[0].samples[round]);
    for (const v of variants) v.overhead.push(await timeIt(() => busOnly(v.bus), 2000));
  }
});
// Let the last after-hooks (scheduled, not awaited) finish.
await sleep(100);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(variants[0].samples);
const baseOverhead = median(variants[0].overhead);
console.log(
  `hook bus on an upload-shaped write (${process.env.DATABASE_URL ? 'server' : 'embedded'} PostgreSQL, ` +
    `${ROUNDS} rounds x ${PER_ROUND} uploads; medians)`,
);
for (const v of variants) {
  const us = median(v.samples);
  const extra = median(v.overhead) - baseOverhead;
  console.log(
    `  ${String(v.n).padStart(2)} no-op plugins: ${us.toFixed(0).padStart(6)} µs/upload, ` +
      `ratio to 0: ${median(v.ratios).toFixed(3)} (paired by round); ` +
      `bus dispatch alone: +${extra.toFixed(1)} µs = ${((extra / base) * 100).toFixed(2)}% of an upload`,
  );
}

await dataSource.query('DROP TABLE bench_files, bench_releases');
await dataSource.destroy();
if (embedded) await embedded.close();
rmSync(dir, { recursive: true, force: true });
