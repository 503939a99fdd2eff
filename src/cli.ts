import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { TokenService } from './accounts/tokens/token.service.js';
import { AdminUserService } from './accounts/users/admin-user.service.js';
import { UserService } from './accounts/users/user.service.js';
import { AppModule } from './app.module.js';
import { connectAndMigrate, preparePlugins } from './boot.js';
import { runAsSystem } from './context/request-context.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { openDatabase } from './database/database-target.js';
import { DataDirInUseError } from './database/embedded-postgres.js';
import { createLogger } from './ops/logger.js';
import type { Logger } from 'pino';
import { larderVersion } from './paths.js';
import { describePlugins, formatPluginList } from './plugin-host/plugin-list.js';
import type { PluginSet } from './plugin-host/plugin-loader.js';
import { PluginLoadError } from './plugin-host/plugin-load.error.js';
import { BlobJanitor } from './packages/blob-janitor.service.js';

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
    const { schema } = await loadedPlugins(cfg, logger);
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

/** The plugins LARDER_PLUGINS names, loaded once per command (their commands are registered from it). */
let prepared: ReturnType<typeof preparePlugins> | undefined;
function loadedPlugins(cfg: Config, logger: Logger): ReturnType<typeof preparePlugins> {
  prepared ??= preparePlugins(cfg, logger);
  return prepared;
}

/**
 * Runs `fn` with the application's services (no HTTP server) as the `system` actor named
 * `actor`, so hooks and the audit log see who acted. Logs go to stderr.
 */
async function withServices<T>(
  actor: string,
  fn: (app: INestApplicationContext) => Promise<T>,
): Promise<T> {
  const cfg = config();
  const logger = createLogger(cfg.logLevel, 2);
  // Plugins load as at server start, so their hooks (the audit log) see CLI actions too.
  const { plugins: set, schema } = await loadedPlugins(cfg, logger);
  const database = await openDatabase(cfg);
  try {
    const { dataSource } = await connectAndMigrate(database, schema, logger);
    const app = await NestFactory.createApplicationContext(
      AppModule.forRoot({ config: cfg, dataSource, logger, plugins: set }),
      { logger: false },
    );
    try {
      return await runAsSystem(actor, () => fn(app));
    } finally {
      await app.close();
    }
  } finally {
    await database.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
  // One trailing newline is the shell's, not the password's.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new InvalidArgumentError('must be a whole number of days, at least 1');
  }
  return Number(value);
}

const user = program.command('user').description('manage accounts');

user
  .command('create <username>')
  .description('create an account; without --password-stdin the user is mailed a link to set one')
  .requiredOption('--email <address>', 'primary e-mail address')
  .option('--admin', 'grant administrator rights', false)
  .option('--password-stdin', 'read the password from standard input', false)
  .action(
    async (
      username: string,
      options: { email: string; admin: boolean; passwordStdin: boolean },
    ) => {
      const password = options.passwordStdin ? await readStdin() : undefined;
      await withServices('cli:user-create', async (app) => {
        await app
          .get(AdminUserService)
          .create({ username, email: options.email, password, isAdmin: options.admin });
      });
      out(`Created user ${username}${options.admin ? ' (administrator)' : ''}.`);
    },
  );

user
  .command('disable <username>')
  .description('disable an account: it can no longer sign in or use its API tokens')
  .option('--reason <text>', 'shown to administrators')
  .action(async (username: string, options: { reason?: string }) => {
    await withServices('cli:user-disable', async (app) => {
      await app.get(AdminUserService).setDisabled(null, username, true, options.reason);
    });
    out(`Disabled user ${username}.`);
  });

program
  .command('token')
  .description('manage API tokens')
  .command('create <username>')
  .description('create an API token and print it (only the token, on stdout)')
  .requiredOption('--name <name>', 'what the token is for')
  .option('--project <name...>', 'limit the token to these projects (default: the whole account)')
  .option('--expires-days <days>', 'expire after this many days', positiveInt)
  .action(
    async (
      username: string,
      options: { name: string; project?: string[]; expiresDays?: number },
    ) => {
      const value = await withServices('cli:token-create', async (app) => {
        const owner = await app.get(UserService).getByUsername(username);
        const { value } = await app.get(TokenService).create(owner, {
          name: options.name,
          projects: options.project,
          expiresInDays: options.expiresDays,
        });
        return value;
      });
      out(value);
    },
  );

const plugins = program.command('plugins').description('inspect plugins');
plugins
  .command('list')
  .description('the plugins LARDER_PLUGINS loads: version, API range, hooks, tabs and audit tags')
  .option('--json', 'one JSON document, for scripts')
  .action(async (options: { json?: boolean }) => {
    const cfg = config();
    // Logs go to stderr (fd 2) so stdout holds the list alone.
    const logger = createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel, 2);
    const { plugins: set } = await loadedPlugins(cfg, logger);
    const described = describePlugins(set);
    out(options.json ? JSON.stringify(described, null, 2) : formatPluginList(described));
  });

program
  .command('storage')
  .description('package file storage')
  .command('sweep')
  .description(
    'delete stored files no release file references (left by a crash between storing and committing)',
  )
  .option(
    '--grace-minutes <minutes>',
    'leave files younger than this alone: uploads may be in flight',
    (value: string) => {
      if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number of minutes');
      return Number(value);
    },
    60,
  )
  .option('--dry-run', 'only list what would be deleted', false)
  .action(async (options: { graceMinutes: number; dryRun: boolean }) => {
    const result = await withServices('cli:storage-sweep', (app) =>
      app
        .get(BlobJanitor)
        .sweep({ graceMs: options.graceMinutes * 60_000, dryRun: options.dryRun }),
    );
    for (const key of result.deleted) out(key);
    process.stderr.write(
      `Scanned ${result.scanned} stored files; ${options.dryRun ? 'would delete' : 'deleted'} ${result.deleted.length}.\n`,
    );
  });

/**
 * Plugins' command groups (`larder audit …`). Loading plugins needs a valid configuration;
 * when that or a plugin fails, core commands still work and a plugin's command reports why.
 */
async function addPluginCommands(): Promise<void> {
  const core = new Set(program.commands.map((c) => c.name()));
  const asked = process.argv[2];
  let cfg: Config;
  let set: PluginSet;
  try {
    cfg = config();
    set = (
      await loadedPlugins(cfg, createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel, 2))
    ).plugins;
  } catch (error) {
    prepared = undefined;
    // `larder audit …` cannot work without its plugin: say why rather than "unknown command".
    if (asked && !asked.startsWith('-') && !core.has(asked) && asked !== 'help') throw error;
    return;
  }
  for (const { manifest } of set.loaded) {
    if (!manifest.commands) continue;
    if (core.has(manifest.name)) {
      throw new Error(`plugin ${manifest.name}: its command group would hide the core's`);
    }
    const command = program
      .command(manifest.name)
      .description(`${manifest.description ?? manifest.name} (plugin)`);
    manifest.commands({ command, config: cfg, withServices, out });
  }
}

try {
  await addPluginCommands();
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
