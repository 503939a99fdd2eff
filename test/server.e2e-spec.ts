import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { createTestDatabase, databaseMode, type TestDatabase } from './helpers/test-database.js';
import { ensureBuilt, packageRoot, run, seedDataDir, startServer } from './helpers/processes.js';

async function healthz(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return res.status;
}

describe('the server process', () => {
  let dataDir: string;
  beforeAll(async () => {
    await ensureBuilt();
  }, 180_000);
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'larder-server-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stops at boot with one line naming a bad variable', async () => {
    const result = await run(process.execPath, ['dist/src/main.js'], {
      PORT: 'abc',
      LARDER_DATA_DIR: dataDir,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'larder: configuration error: PORT: must be a whole number, got "abc"\n',
    );
    expect(result.stdout).toBe('');
  });

  it('runs on embedded PostgreSQL with no set-up, and comes back after kill -9', async () => {
    const first = await startServer({ LARDER_DATA_DIR: dataDir });
    expect(await healthz(first.port)).toBe(200);
    const secret = await readFile(join(dataDir, 'secret'), 'utf8');
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startServer({ LARDER_DATA_DIR: dataDir });
    try {
      expect(await healthz(second.port)).toBe(200);
      expect(await readFile(join(dataDir, 'secret'), 'utf8')).toBe(secret);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it('refuses a second process on the same embedded data dir, naming the first', async () => {
    await seedDataDir(dataDir);
    const first = await startServer({ LARDER_DATA_DIR: dataDir });
    try {
      const second = await run(process.execPath, ['dist/src/main.js'], {
        LARDER_DATA_DIR: dataDir,
        PORT: '0',
      });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`in use by process ${first.child.pid}`);
      expect(await healthz(first.port)).toBe(200);
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
    }
  });

  it('on SIGTERM finishes the request in flight, then closes the database and exits 0', async () => {
    await seedDataDir(dataDir);
    const server = await startServer({ LARDER_DATA_DIR: dataDir });
    const socket = connect(server.port, '127.0.0.1');
    let response = '';
    socket.on('data', (chunk) => (response += chunk));
    const body = '{"status":"still sending"}';
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    // Headers and half the body: the request is in flight when the signal arrives.
    socket.write(
      `POST /healthz HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.child.exitCode).toBeNull();
    socket.end(body.slice(10));
    await new Promise((resolve) => socket.on('close', resolve));
    expect(response).toMatch(/^HTTP\/1\.1 404 /);
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');
    expect(existsSync(join(dataDir, 'pg', 'larder.pid'))).toBe(false);
  });
});

describe('the embedded database', () => {
  it('keeps committed rows when its process is killed with -9', async () => {
    await ensureBuilt();
    const dir = await mkdtemp(join(tmpdir(), 'larder-pglite-'));
    try {
      const script = `
        const { startEmbeddedPostgres } = await import(${JSON.stringify(join(packageRoot, 'dist/src/database/embedded-postgres.js'))});
        const { default: pg } = await import('pg');
        const db = await startEmbeddedPostgres(${JSON.stringify(dir)});
        const client = new pg.Client({ host: db.host, port: db.port, user: 'postgres', password: 'postgres', database: 'postgres' });
        await client.connect();
        await client.query('CREATE TABLE survivor (note text)');
        await client.query("INSERT INTO survivor VALUES ('committed before kill -9')");
        process.stdout.write('written\\n');
        setInterval(() => {}, 1000);
      `;
      const { spawn } = await import('node:child_process');
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        cwd: packageRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve) =>
        child.stdout!.on('data', (d) => String(d).includes('written') && resolve()),
      );
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('exit', resolve));

      const db = await startEmbeddedPostgres(dir);
      const client = new pg.Client({
        host: db.host,
        port: db.port,
        user: 'postgres',
        password: 'postgres',
        database: 'postgres',
      });
      await client.connect();
      const { rows } = await client.query('SELECT note FROM survivor');
      await client.end();
      await db.close();
      expect(rows).toEqual([{ note: 'committed before kill -9' }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('the larder command', () => {
  let dataDir: string;
  let db: TestDatabase | undefined;
  let env: Record<string, string>;
  beforeAll(async () => {
    await ensureBuilt();
    dataDir = await mkdtemp(join(tmpdir(), 'larder-cli-'));
    env = { LARDER_DATA_DIR: dataDir };
    if (databaseMode === 'server') {
      db = await createTestDatabase();
      env.DATABASE_URL = db.url!;
    }
  }, 180_000);
  afterAll(async () => {
    await db?.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lists its commands with --help', async () => {
    const result = await run('npm', ['run', '-s', 'larder', '--', '--help'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: larder');
    expect(result.stdout).toContain('migrate');
  });

  it('migrates, printing only its own result on stdout', async () => {
    const first = await run('npm', ['run', '-s', 'larder', '--', 'migrate'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^(Applied \d+ migration\(s\): [\w, ]+|Nothing to migrate\.)\n$/);
    const second = await run('npm', ['run', '-s', 'larder', '--', 'migrate'], env);
    expect(second).toMatchObject({ code: 0, stdout: 'Nothing to migrate.\n' });
  });

  it('names an unknown command and exits non-zero', async () => {
    const result = await run('npm', ['run', '-s', 'larder', '--', 'frobnicate'], env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });
});
