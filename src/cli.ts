import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { connectAndMigrate, preparePlugins } from './boot.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { openDatabase } from './database/database-target.js';
import { DataDirInUseError } from './database/embedded-postgres.js';
import { createLogger } from './ops/logger.js';
import { larderVersion } from './paths.js';
import { describePlugins, formatPluginList } from './plugin-host/plugin-list.js';
import { PluginLoadError } from './plugin-host/plugin-load.error.js';

/**
 * The `larder` command line (DESIGN.md §7). What a command prints for scripts goes to stdout
 * alone; logs and progress go to stderr, so `npm run -s larder -- … | …` stays clean.
 */
function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function config(): Config {
  return loadConfig();
}

const program = new Command()
  .name('larder')
  .description('Larder, a self-hosted Python package index: administration commands.')
  .version(larderVersion)
  .showHelpAfterError()
  .exitOverride();

program
  .command('migrate')
  .description('apply pending database migrations (the server also does this when it starts)')
  .action(async () => {
    const cfg = config();
    const logger = createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel, 2);
    // Plugins' migrations run with the core's, as at server start.
    const { schema } = await preparePlugins(cfg, logger);
    const database = await openDatabase(cfg);
    try {
      const { dataSource, applied } = await connectAndMigrate(database, schema, logger);
      await dataSource.destroy();
      out(
        applied.length === 0
          ? 'Nothing to migrate.'
          : `Applied ${applied.length} migration(s): ${applied.join(', ')}`,
      );
    } finally {
      await database.close();
    }
  });

const plugins = program.command('plugins').description('inspect plugins');
plugins
  .command('list')
  .description('the plugins LARDER_PLUGINS loads: version, API range, hooks, tabs and audit tags')
  .option('--json', 'one JSON document, for scripts')
  .action(async (options: { json?: boolean }) => {
    const cfg = config();
    // Logs go to stderr (fd 2) so stdout holds the list alone.
    const logger = createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel, 2);
    const { plugins: set } = await preparePlugins(cfg, logger);
    const described = describePlugins(set);
    out(options.json ? JSON.stringify(described, null, 2) : formatPluginList(described));
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exit(error.exitCode);
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`larder: configuration error: ${error.message}\n`);
  } else if (error instanceof DataDirInUseError || error instanceof PluginLoadError) {
    process.stderr.write(`larder: ${error.message}\n`);
  } else {
    process.stderr.write(`larder: ${(error as Error).message}\n`);
  }
  process.exit(1);
}
