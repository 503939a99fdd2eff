import type { PluginCli } from '../../../src/plugin-api/index.js';
import { AuditVerifier, type VerifyResult } from '../audit.verifier.js';

/** A one-line bar redrawn in place; only on a terminal, and only on stderr. */
function progressBar(stream: NodeJS.WriteStream) {
  let last = 0;
  return {
    update({
      rows,
      lastId,
      minId,
      maxId,
    }: {
      rows: number;
      lastId: string;
      minId: string;
      maxId: string;
    }) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const span = Number(BigInt(maxId) - BigInt(minId)) || 1;
      const done = Math.min(1, Number(BigInt(lastId) - BigInt(minId)) / span);
      const width = 30;
      const filled = Math.round(done * width);
      stream.write(
        `\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${(done * 100).toFixed(0).padStart(3)}% ${rows.toLocaleString('en')} events`,
      );
    },
    end() {
      stream.write('\r\x1b[K');
    },
  };
}

/** `larder audit verify [--from ID]`: exit 0 when the chain and checkpoints hold, 1 naming the first problem. */
export function verifyCommand({ command, withServices, out }: PluginCli): void {
  command
    .command('verify')
    .description('check the audit hash chain and the signed checkpoints')
    .option('--from <id>', 'start at this event id (its link to the one before is trusted)')
    .option('--json', 'print the result as one JSON document')
    .action(async (opts: { from?: string; json?: boolean }) => {
      if (opts.from !== undefined && !/^\d{1,19}$/.test(opts.from)) {
        throw new Error(`--from: "${opts.from}" is not an event id`);
      }
      const bar = process.stderr.isTTY ? progressBar(process.stderr) : undefined;
      const result: VerifyResult = await withServices('cli:audit-verify', async (app) => {
        const verifier = app.get(AuditVerifier);
        const outcome = await verifier.verify({
          fromId: opts.from,
          onProgress: bar ? (p) => bar.update(p) : undefined,
        });
        await verifier.record(outcome, opts.from);
        return outcome;
      });
      bar?.end();
      const rate = result.seconds > 0 ? Math.round(result.rows / result.seconds) : result.rows;
      if (opts.json) out(JSON.stringify(result));
      else if (result.ok) {
        out(
          `ok: ${result.rows} events (${result.firstId ?? '-'}–${result.lastId ?? '-'}), ` +
            `${result.checkpoints} checkpoints verified in ${result.seconds.toFixed(2)} s (${rate} events/s)` +
            (result.unchained
              ? `; ${result.unchained} older events from before the chain are not covered`
              : ''),
        );
      }
      if (!result.ok) throw new Error(`audit chain broken: ${result.problem!.message}`);
    });
}
