// Builds dist/ with tsc when it is missing or older than any source, so `npm start` and the
// `larder` command always run current code. Prints nothing when dist/ is up to date.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.tsbuildinfo');

function newest(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return path.endsWith('.ts') || path.endsWith('.json') ? info.mtimeMs : 0;
  let latest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules') continue;
    latest = Math.max(latest, newest(join(path, entry)));
  }
  return latest;
}

export function ensureBuild() {
  const sources = [
    'src',
    'plugins',
    'migrations',
    'tsconfig.json',
    'tsconfig.build.json',
    'package.json',
  ]
    .map((p) => join(root, p))
    .filter(existsSync);
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  if (built > 0 && Math.max(...sources.map(newest)) <= built) return;
  process.stderr.write('larder: building dist/ …\n');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
    stdio: ['ignore', 2, 2],
  });
  if (result.status !== 0) {
    process.stderr.write('larder: the build failed (see above)\n');
    process.exit(result.status ?? 1);
  }
  // tsc leaves the stamp alone when only files it does not build changed (specs, test
  // helpers): touch it, or every later run would rebuild.
  const now = new Date();
  if (existsSync(stamp)) utimesSync(stamp, now, now);
}
