// Builds, once per machine and PGlite version, an initialised PGlite data dir that each test
// file copies instead of running initdb in WASM again (4–7 s → ~1 s; STACK.md §7). Built in
// server mode too: process tests start embedded servers either way.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuild } from '../scripts/ensure-build.mjs';

export default async function globalSetup() {
  // Process and CLI tests run dist/: build it once here, so no two test files run tsc at once.
  ensureBuild();
  const root = process.cwd();
  const version = JSON.parse(
    readFileSync(join(root, 'node_modules/@electric-sql/pglite/package.json'), 'utf8'),
  ).version;
  const cache = join(root, 'node_modules', '.cache');
  const template = join(cache, `larder-pglite-template-${version}`);
  if (!existsSync(join(template, 'PG_VERSION'))) {
    mkdirSync(cache, { recursive: true });
    const building = `${template}.${process.pid}`;
    rmSync(building, { recursive: true, force: true });
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create({ dataDir: building });
    await db.query('SELECT 1');
    await db.close();
    rmSync(template, { recursive: true, force: true });
    renameSync(building, template);
  }
  process.env.PGLITE_TEMPLATE_DIR = template;
}
