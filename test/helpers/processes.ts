import { spawn, type ChildProcess } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';

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

/** Runs a command to completion, collecting its output. */
export function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: packageRoot,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        LARDER_PLUGINS: '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Puts a copy of the initialised PGlite template in `<dataDir>/pg`, skipping a slow initdb. */
export async function seedDataDir(dataDir: string): Promise<void> {
  const template = process.env.PGLITE_TEMPLATE_DIR;
  if (template) await cp(template, join(dataDir, 'pg'), { recursive: true });
}
