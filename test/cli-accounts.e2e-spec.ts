import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify } from '@node-rs/argon2';
import { KeyRing } from '../src/accounts/key-ring.js';
import { ApiToken } from '../src/accounts/tokens/api-token.entity.js';
import { User } from '../src/accounts/users/user.entity.js';
import { loadConfig } from '../src/config/config.js';
import { createDataSource } from '../src/database/data-source.js';
import type { DatabaseTarget } from '../src/database/database-target.js';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { ensureBuilt, packageRoot, seedDataDir } from './helpers/processes.js';
import { createTestDatabase, databaseMode, type TestDatabase } from './helpers/test-database.js';

/** Runs `larder …` as an operator would, optionally feeding standard input. */
function larder(args: string[], env: Record<string, string>, stdin = '') {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(packageRoot, 'bin/larder.mjs'), ...args], {
      cwd: packageRoot,
      env: { PATH: process.env.PATH ?? '', LARDER_PLUGINS: '', ...env },
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

describe('larder user and token commands', () => {
  let dataDir: string;
  let db: TestDatabase | undefined;
  let env: Record<string, string>;
  beforeAll(async () => {
    await ensureBuilt();
    dataDir = await mkdtemp(join(tmpdir(), 'larder-cli-accounts-'));
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

  it('creates an administrator with a password read from stdin', async () => {
    const result = await larder(
      ['user', 'create', 'Root', '--email', 'root@example.test', '--admin', '--password-stdin'],
      env,
      'correct horse battery staple\n',
    );
    expect(result).toMatchObject({ code: 0, stdout: 'Created user Root (administrator).\n' });
    expect(result.stderr).not.toContain('correct horse battery staple');
    const user = await inspect((ds) =>
      ds.getRepository(User).findOneByOrFail({ normalizedUsername: 'root' }),
    );
    expect(user.isAdmin).toBe(true);
    expect(await verify(user.passwordHash!, 'correct horse battery staple')).toBe(true);
  });

  it('refuses a weak password or a bad username with a one-line message and exit 1', async () => {
    const weak = await larder(
      ['user', 'create', 'weakling', '--email', 'w@example.test', '--password-stdin'],
      env,
      'password1\n',
    );
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain('larder: This password is one of the most commonly used');
    const bad = await larder(['user', 'create', 'no way', '--email', 'n@example.test'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('A username may contain only');
  });

  it('prints only the token on stdout, stored as a hash with its scope and expiry', async () => {
    // A token can be limited only to a project its owner has a role on.
    const refused = await larder(
      ['token', 'create', 'root', '--name', 'ci', '--project', 'Acme_Widgets'],
      env,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('larder: You have no role on a project named "acme-widgets"');
    await inspect((ds) =>
      ds.query(
        `WITH p AS (INSERT INTO projects (name, normalized_name) VALUES ('Acme_Widgets', 'acme-widgets') RETURNING id)
         INSERT INTO roles (project_id, user_id, role_name)
         SELECT p.id, u.id, 'Owner' FROM p, users u WHERE u.normalized_username = 'root'`,
      ),
    );
    const result = await larder(
      [
        'token',
        'create',
        'root',
        '--name',
        'ci',
        '--project',
        'Acme_Widgets',
        '--expires-days',
        '7',
      ],
      env,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^larder-[0-9a-f]{16}-[A-Za-z0-9_-]{43}\n$/);
    const value = result.stdout.trim();
    expect(result.stderr).not.toContain(value);
    const token = await inspect((ds) => ds.getRepository(ApiToken).findOneByOrFail({ name: 'ci' }));
    expect(token.projects).toEqual(['acme-widgets']);
    expect(token.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 6.9 * 86_400_000);
    const keys = new KeyRing(loadConfig({ ...env, LARDER_LOG_LEVEL: 'silent' }));
    expect(token.valueHash).toBe(keys.hash('api-token', value));
    expect(JSON.stringify(token)).not.toContain(value.slice(24));
  });

  it('disables a user', async () => {
    const result = await larder(['user', 'disable', 'ROOT', '--reason', 'left'], env);
    expect(result).toMatchObject({ code: 0, stdout: 'Disabled user ROOT.\n' });
    const user = await inspect((ds) =>
      ds.getRepository(User).findOneByOrFail({ normalizedUsername: 'root' }),
    );
    expect(user).toMatchObject({ isDisabled: true, disabledReason: 'left' });
    const missing = await larder(['user', 'disable', 'ghost'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No user named "ghost"');
  });
});
