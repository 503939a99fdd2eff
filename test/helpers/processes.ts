import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataSource } from '../../src/database/data-source.js';
import type { DatabaseTarget } from '../../src/database/database-target.js';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { packageRoot } from '../../src/paths.js';
import { createTestDatabase, databaseMode, type TestDatabase } from './test-database.js';

export { packageRoot };

/** Builds dist/ if stale: process tests run the compiled server and CLI, as operators do. */
export async function ensureBuilt(): Promise<void> {
  const { ensureBuild } = await import(join(packageRoot, 'scripts', 'ensure-build.mjs'));
  ensureBuild();
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `node dist/src/main.js` with `env` and waits for its "listening" log line. */
export function startServer(
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [join(packageRoot, 'dist/src/main.js')], {
    cwd: packageRoot,
    // Info level: the "listening" line is how we learn the port.
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      LARDER_PLUGINS: '',
      ...env,
      LARDER_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"port":(\d+)[^\n]*Larder listening/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), output: () => output, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, feeding it `stdin`, collecting its output. No plugins unless `env` names them. */
export function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  stdin = '',
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: packageRoot,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        LARDER_PLUGINS: '',
        ...env,
      },
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

/** Runs the compiled `larder …` as an operator would. */
export function larder(
  args: string[],
  env: Record<string, string>,
  stdin = '',
): Promise<RunResult> {
  return run(process.execPath, [join(packageRoot, 'bin/larder.mjs'), ...args], env, stdin);
}

/**
 * A data dir (and, in server mode, a fresh database) for tests that run the real CLI, and a
 * way to look into the database the commands wrote, once they have exited (the embedded
 * database takes one process at a time).
 */
export interface CliWorkspace {
  /** LARDER_DATA_DIR, and DATABASE_URL in server mode. */
  env: Record<string, string>;
  inspect<T>(fn: (ds: ReturnType<typeof createDataSource>) => Promise<T>): Promise<T>;
  dispose(): Promise<void>;
}

export async function cliWorkspace(prefix: string): Promise<CliWorkspace> {
  await ensureBuilt();
  const dataDir = await mkdtemp(join(tmpdir(), prefix));
  const env: Record<string, string> = { LARDER_DATA_DIR: dataDir };
  let db: TestDatabase | undefined;
  if (databaseMode === 'server') {
    db = await createTestDatabase();
    env.DATABASE_URL = db.url!;
  } else {
    await seedDataDir(dataDir);
  }
  return {
    env,
    async inspect(fn) {
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
    },
    async dispose() {
      await db?.dispose();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Puts a copy of the initialised PGlite template in `<dataDir>/pg`, skipping a slow initdb. */
export async function seedDataDir(dataDir: string): Promise<void> {
  const template = process.env.PGLITE_TEMPLATE_DIR;
  if (template) await cp(template, join(dataDir, 'pg'), { recursive: true });
}
