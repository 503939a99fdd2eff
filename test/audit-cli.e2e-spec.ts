import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataSource } from '../src/database/data-source.js';
import type { DatabaseTarget } from '../src/database/database-target.js';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { ensureBuilt, packageRoot, seedDataDir } from './helpers/processes.js';
import { createTestDatabase, databaseMode, type TestDatabase } from './helpers/test-database.js';

/** Runs `larder …` with the audit plugin loaded, as an operator would. */
function larder(args: string[], env: Record<string, string>, stdin = '') {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(packageRoot, 'bin/larder.mjs'), ...args], {
      cwd: packageRoot,
      env: { PATH: process.env.PATH ?? '', LARDER_PLUGINS: 'audit', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

interface Row {
  tag: string;
  actor_kind: string;
  actor_name: string | null;
  user_id: string | null;
  project_id: string | null;
  project_name: string | null;
  ip: string | null;
  additional: Record<string, unknown>;
  json: string;
}

/** The audit matrix's command-line part: what `larder user|token` do is recorded, by the system. */
describe('audit of the larder user and token commands', () => {
  let dataDir: string;
  let db: TestDatabase | undefined;
  let env: Record<string, string>;
  const password = 'Cli-audited-password-5521';
  let token = '';

  beforeAll(async () => {
    await ensureBuilt();
    dataDir = await mkdtemp(join(tmpdir(), 'larder-audit-cli-'));
    env = { LARDER_DATA_DIR: dataDir };
    if (databaseMode === 'server') {
      db = await createTestDatabase();
      env.DATABASE_URL = db.url!;
    } else {
      await seedDataDir(dataDir);
    }
  }, 180_000);
  afterAll(async () => {
    await db?.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Opens the database the commands wrote to (after they have exited). */
  async function inspect<T>(
    fn: (ds: ReturnType<typeof createDataSource>) => Promise<T>,
  ): Promise<T> {
    let target: DatabaseTarget;
    let close = async () => {};
    if (db) {
      target = db.target;
    } else {
      const embedded = await startEmbeddedPostgres(join(dataDir, 'pg'));
      target = {
        kind: 'embedded',
        host: embedded.host,
        port: embedded.port,
        close: embedded.close,
      };
      close = embedded.close;
    }
    const ds = createDataSource(target);
    await ds.initialize();
    try {
      return await fn(ds);
    } finally {
      await ds.destroy();
      await close();
    }
  }

  /** Every stored event. */
  const events = (): Promise<Row[]> =>
    inspect((ds) =>
      ds.query(
        `SELECT tag, actor_kind, actor_name, user_id, project_id, project_name, host(ip) AS ip,
                additional, row_to_json(a)::text AS json
           FROM audit_events a ORDER BY id`,
      ),
    );

  it('records user create, token create (with its project scope) and user disable by the command', async () => {
    const created = await larder(
      ['user', 'create', 'cli-person', '--email', 'cli@example.test', '--password-stdin'],
      env,
      `${password}\n`,
    );
    expect(created).toMatchObject({ code: 0 });
    // A project the user owns (a token may be limited only to those), written behind the
    // app's back: setting up the test is no audited action.
    const projectId: string = await inspect(async (ds) => {
      const [{ id }] = await ds.query(
        `INSERT INTO projects (name, normalized_name) VALUES ('Cli.Project', 'cli-project')
         RETURNING id::text AS id`,
      );
      await ds.query(
        `INSERT INTO roles (project_id, user_id, role_name)
         SELECT $1, id, 'Owner' FROM users WHERE normalized_username = 'cli-person'`,
        [id],
      );
      return id;
    });
    const made = await larder(
      ['token', 'create', 'cli-person', '--name', 'deploy', '--project', 'Cli_Project'],
      env,
    );
    expect(made.code).toBe(0);
    token = made.stdout.trim();
    const disabled = await larder(['user', 'disable', 'cli-person', '--reason', 'left'], env);
    expect(disabled.code).toBe(0);

    const rows = await events();
    const user = rows[0]?.user_id;
    expect(user).toMatch(/^[0-9a-f-]{36}$/);
    expect(
      rows.map((r) => [r.tag, r.actor_kind, r.actor_name, r.user_id, r.project_name, r.ip]),
    ).toEqual([
      ['admin:user:create', 'system', 'cli:user-create', user, null, null],
      ['account:api_token:added', 'system', 'cli:token-create', user, null, null],
      // On the project's history, under its name.
      ['project:api_token:added', 'system', 'cli:token-create', null, 'Cli.Project', null],
      ['admin:user:disable', 'system', 'cli:user-disable', user, null, null],
    ]);
    expect(rows.map((r) => r.additional)).toEqual([
      { username: 'cli-person', admin: false },
      {
        description: 'deploy',
        scope: ['cli-project'],
        expires: null,
        token_id: expect.any(String),
      },
      { description: 'deploy', user: 'cli-person' },
      { reason: 'left' },
    ]);
    expect(rows[2].project_id).toBe(projectId);
    // Neither the password read from stdin nor the printed token is stored anywhere.
    const all = rows.map((r) => r.json).join('\n');
    expect(token).toMatch(/^larder-/);
    expect(all).not.toContain(password);
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.slice('larder-0123456789abcdef-'.length));
  }, 240_000);
});
