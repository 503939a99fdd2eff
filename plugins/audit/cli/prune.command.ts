import type { PluginCli } from '../../../src/plugin-api/index.js';
import { AuditRetention } from '../audit.retention.js';

/** `larder audit prune`: applies the configured retentions now (the daily job does the same). */
export function pruneCommand({ command, config, withServices, out }: PluginCli): void {
  command
    .command('prune')
    .description(
      'delete audit events older than LARDER_AUDIT_RETENTION_DAYS and hash IPs older than LARDER_AUDIT_IP_RETENTION_DAYS',
    )
    .action(async () => {
      if (config.auditRetentionDays === undefined && config.auditIpRetentionDays === undefined) {
        throw new Error(
          'neither LARDER_AUDIT_RETENTION_DAYS nor LARDER_AUDIT_IP_RETENTION_DAYS is set: nothing to prune',
        );
      }
      const result = await withServices('cli:audit-prune', (app) =>
        app.get(AuditRetention).run({ wait: true }),
      );
      out(
        `pruned ${result.pruned} events` +
          (result.before ? ` older than ${result.before.toISOString()}` : '') +
          `; ${result.ipsHashed} IPs replaced by their keyed hash`,
      );
    });
}
