// `npm run migration:generate -- AddUsers`: applies the existing migrations to a scratch
// embedded database, diffs it against the entities, and writes the difference as a new
// migration in migrations/. Read it, then add it to migrations/index.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuild } from './ensure-build.mjs';

const name = process.argv[2];
if (!name || !/^[A-Z][A-Za-z0-9]*$/.test(name)) {
  process.stderr.write('usage: npm run migration:generate -- PascalCaseName\n');
  process.exit(2);
}
ensureBuild();
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { startEmbeddedPostgres } = await import('../dist/src/database/embedded-postgres.js');
const { createDataSource, coreSchema } = await import('../dist/src/database/data-source.js');
const { runMigrations } = await import('../dist/src/database/migrator.js');
const { runAsSystem } = await import('../dist/src/context/request-context.js');

const dir = mkdtempSync(join(tmpdir(), 'larder-migration-'));
const db = await startEmbeddedPostgres(dir);
const target = { kind: 'embedded', host: db.host, port: db.port, close: db.close };
const dataSource = createDataSource(target, coreSchema);
try {
  await dataSource.initialize();
  await runAsSystem('migration:generate', () => runMigrations(dataSource));
  const sql = await dataSource.driver.createSchemaBuilder().log();
  if (sql.upQueries.length === 0) {
    process.stdout.write('The entities and migrations agree: nothing to generate.\n');
  } else {
    const timestamp = Date.now();
    const className = `${name}${timestamp}`;
    const q = (query) =>
      JSON.stringify(query.query) +
      (query.parameters?.length ? `, ${JSON.stringify(query.parameters)}` : '');
    const up = sql.upQueries.map((query) => `    await queryRunner.query(${q(query)});`).join('\n');
    const down = [...sql.downQueries]
      .reverse()
      .map((query) => `    await queryRunner.query(${q(query)});`)
      .join('\n');
    const file = join(root, 'migrations', `${timestamp}-${name}.ts`);
    writeFileSync(
      file,
      `import type { MigrationInterface, QueryRunner } from 'typeorm';\n\n` +
        `export class ${className} implements MigrationInterface {\n` +
        `  name = '${className}';\n\n` +
        `  public async up(queryRunner: QueryRunner): Promise<void> {\n${up}\n  }\n\n` +
        `  public async down(queryRunner: QueryRunner): Promise<void> {\n${down}\n  }\n}\n`,
    );
    process.stdout.write(`Wrote ${file}\nAdd ${className} to migrations/index.ts.\n`);
  }
} finally {
  if (dataSource.isInitialized) await dataSource.destroy();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
