import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root, found from this file whether it runs from `src/` (tests) or `dist/src/`. */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'larder')
      return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the larder package root');
    dir = parent;
  }
}

export const packageRoot = findRoot();
export const viewsDir = join(packageRoot, 'src', 'web', 'views');
export const publicDir = join(packageRoot, 'public');
export const larderVersion: string = JSON.parse(
  readFileSync(join(packageRoot, 'package.json'), 'utf8'),
).version;

/**
 * Where compiled code lives: the package root when running from source (jest), `dist/` when
 * running the build. First-party plugin code is under `<codeRoot>/plugins/<name>/`; their
 * views and other non-code files stay in the source tree, `<packageRoot>/plugins/<name>/`.
 */
export const codeRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const firstPartyPluginsDir = join(codeRoot, 'plugins');
export const firstPartyPluginSourceDir = (name: string) => join(packageRoot, 'plugins', name);
