import type { INestApplicationContext } from '@nestjs/common';
import type { Command } from 'commander';
import type { Config } from '../config/config.js';

/**
 * What a plugin's `commands` receives (DESIGN.md §7): its own command group, `larder <plugin
 * name> …`, and the means to run with the application's services. Output meant for scripts
 * goes through {@link out} (stdout alone); logs, progress and prompts go to stderr.
 */
export interface PluginCli {
  /** `larder <plugin name>`: add subcommands with commander's API (`.command('verify')…`). */
  command: Command;
  /** The loaded configuration. */
  config: Config;
  /**
   * Runs `fn` with the app's services (no HTTP server) as the `system` actor named `actor`
   * (e.g. `cli:audit-prune`), so hooks and the audit log see who acted.
   */
  withServices<T>(actor: string, fn: (app: INestApplicationContext) => Promise<T>): Promise<T>;
  /** Writes one line to stdout. */
  out(line: string): void;
}
