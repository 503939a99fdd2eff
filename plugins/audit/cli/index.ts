import type { PluginCli } from '../../../src/plugin-api/index.js';
import { pruneCommand } from './prune.command.js';
import { pubkeyCommand } from './pubkey.command.js';
import { verifyCommand } from './verify.command.js';

/** `larder audit …` (docs/audit.md). One file per subcommand. */
export function auditCommands(cli: PluginCli): void {
  verifyCommand(cli);
  pubkeyCommand(cli);
  pruneCommand(cli);
}
