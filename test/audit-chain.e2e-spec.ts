import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { ensureBuilt, run, seedDataDir, startServer } from './helpers/processes.js';
import { createTestDatabase, databaseMode, type TestDatabase } from './helpers/test-database.js';

/** A failed sign-in through the real form: one `account:login:failure` event. */
async function failedLogin(port: number, i: number): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const page = await fetch(`${base}/account/login/`);
  const cookie = (page.headers.getSetCookie() ?? []).map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="csrf_token" value="([0-9a-f]{64})"/.exec(await page.text())![1];
  const res = await fetch(`${base}/account/login/`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: `nobody${i}`, password: 'wrong', csrf_token: csrf }),
  });
  await res.arrayBuffer();
  if (res.status !== 400) throw new Error(`failed sign-in answered ${res.status}`);
}

/**
 * The chain as operators run it: real server processes write, the real `larder audit …`
 * commands check. On a PostgreSQL server two processes write at once; on the embedded
 * database (one process per data dir) one process serves concurrent requests.
 */
describe('larder audit verify on a chain written by server processes', () => {
  let dataDir: string;
  let db: TestDatabase | undefined;
  let env: Record<string, string>;
  const processes = databaseMode === 'server' ? 2 : 1;

  beforeAll(async () => {
    await ensureBuilt();
    dataDir = await mkdtemp(join(tmpdir(), 'larder-audit-chain-'));
    if (databaseMode === 'server') db = await createTestDatabase();
    else await seedDataDir(dataDir);
    env = {
      LARDER_DATA_DIR: dataDir,
      LARDER_PLUGINS: 'audit',
      LARDER_LOGIN_FAILURES_PER_IP: '10000',
      ...(db?.url ? { DATABASE_URL: db.url } : {}),
    };
  }, 300_000);
  afterAll(async () => {
    await db?.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });

  const larder = (...args: string[]) => run(process.execPath, ['bin/larder.mjs', ...args], env);

  /** Runs `sql` on the app's database (the embedded one is opened while no server runs). */
  async function sql(text: string, params: unknown[] = []): Promise<Array<Record<string, string>>> {
    if (db?.url) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        return (await client.query(text, params)).rows;
      } finally {
        await client.end();
      }
    }
    const embedded = await startEmbeddedPostgres(join(dataDir, 'pg'));
    const client = new pg.Client({
      host: embedded.host,
      port: embedded.port,
      user: 'postgres',
      password: 'postgres',
      database: 'postgres',
    });
    await client.connect();
    try {
      return (await client.query(text, params)).rows;
    } finally {
      await client.end();
      await embedded.close();
    }
  }

  it(`${processes} server process(es) writing concurrently leave one chain that verifies, and an edit is named`, async () => {
    const servers: Awaited<ReturnType<typeof startServer>>[] = [];
    // One at a time: two first starts would race to create the key and run migrations.
    for (let i = 0; i < processes; i++) servers.push(await startServer(env, 120_000));
    try {
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => failedLogin(servers[i % servers.length].port, i)),
      );
      // Sign-in failures are recorded by after-hooks, just after the response.
      await new Promise((resolve) => setTimeout(resolve, 2000));
    } finally {
      for (const server of servers) {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    }
    const verified = await larder('audit', 'verify');
    expect(verified.stderr).not.toContain('larder:');
    expect(verified.code).toBe(0);
    const [{ n }] = await sql(
      `SELECT count(*)::text AS n FROM audit_events WHERE tag = 'account:login:failure'`,
    );
    expect(Number(n)).toBe(40);
    expect(verified.stdout).toMatch(/^ok: \d+ events \(\d+–\d+\), 0 checkpoints verified in/);

    const [{ id }] = await sql(
      `SELECT id::text AS id FROM audit_events ORDER BY audit_events.id OFFSET 20 LIMIT 1`,
    );
    await sql(`UPDATE audit_events SET actor_name = 'someone-else' WHERE id = $1`, [id]);
    const broken = await larder('audit', 'verify');
    expect(broken.code).toBe(1);
    expect(broken.stderr.trimEnd().split('\n').pop()).toBe(
      `larder: audit chain broken: row ${id} was edited: its hash does not match its fields`,
    );
    // --from past the edit: the rest still holds.
    const later = await larder('audit', 'verify', '--from', String(BigInt(id) + 1n));
    expect(later.code).toBe(0);
    const bad = await larder('audit', 'verify', '--from', 'x');
    expect(bad.stderr.trimEnd().split('\n').pop()).toBe('larder: --from: "x" is not an event id');
    // The result is kept for the admin page.
    const [run1] = await sql(
      `SELECT ok, problem FROM audit_verify_runs ORDER BY id DESC OFFSET 1 LIMIT 1`,
    );
    expect(run1).toMatchObject({ ok: false });
  }, 600_000);

  it('prints the public key and its fingerprint; prune says what is missing', async () => {
    const key = await larder('audit', 'pubkey');
    expect(key.code).toBe(0);
    expect(key.stdout).toMatch(
      /^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\nfingerprint SHA256:[A-Za-z0-9+/]{43}\n$/,
    );
    const raw = await larder('audit', 'pubkey', '--raw');
    expect(Buffer.from(raw.stdout.split('\n')[0], 'base64')).toHaveLength(32);
    const prune = await larder('audit', 'prune');
    expect(prune.code).toBe(1);
    expect(prune.stderr.trimEnd().split('\n').pop()).toBe(
      'larder: neither LARDER_AUDIT_RETENTION_DAYS nor LARDER_AUDIT_IP_RETENTION_DAYS is set: nothing to prune',
    );
  }, 300_000);
});
