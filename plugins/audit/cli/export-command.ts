import { Option } from 'commander';
import { createWriteStream } from 'node:fs';
import { DataSource } from 'typeorm';
import type { PluginCli } from '../../../src/plugin-api/index.js';
import { EXPORT_FORMATS, type ExportFormat } from '../audit.dto.js';
import { adminFilter, givenFilters, type AdminFilterInput } from '../audit.filters.js';
import { AuditExporter } from '../export/audit-exporter.js';

/**
 * `larder audit export --format jsonl|csv [filters] [--out FILE]`: the admin page's export
 * for scripts and log archives, streamed to stdout (nothing else goes there) or to a file.
 */
export function exportCommand(cli: PluginCli): void {
  cli.command
    .command('export')
    .description('write the audit log (filtered as on /admin/audit/) as CSV or JSON Lines')
    .addOption(
      new Option('--format <format>', 'file format').choices(EXPORT_FORMATS).makeOptionMandatory(),
    )
    .option('--tag <tag>', 'only this event type, e.g. account:login:failure')
    .option('--actor <username>', 'only actions by this actor')
    .option('--user <username|id>', 'only events about this account')
    .option('--project <name>', 'only events of this project')
    .option('--ip <address|cidr>', 'only events from this address or network')
    .option('--since <date>', 'from this date or time (ISO 8601)')
    .option('--until <date>', 'before this time; a bare date includes that day')
    .option('--q <text>', 'key=value in the additional data, or words to search for')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (options: AdminFilterInput & { format: ExportFormat; out?: string }) => {
      const rows = await cli.withServices('cli:audit-export', async (app) => {
        const filter = await adminFilter(app.get(DataSource).manager, options, cli.config.secret);
        const exporter = app.get(AuditExporter);
        const filters = givenFilters(options);
        if (!options.out) {
          return exporter.export(filter, options.format, filters, process.stdout, { end: false });
        }
        // 0600: the log names people and their addresses.
        const file = createWriteStream(options.out, { mode: 0o600 });
        return exporter.export(filter, options.format, filters, file);
      });
      process.stderr.write(`Exported ${rows} events.\n`);
    });
}
