import type { PluginCli } from '../../../src/plugin-api/index.js';
import { AuditSigner, rawPublicKey } from '../audit.signer.js';

/** `larder audit pubkey [--raw]`: the checkpoint key's public half, to keep elsewhere. */
export function pubkeyCommand({ command, withServices, out }: PluginCli): void {
  command
    .command('pubkey')
    .description('print the public key that signs audit checkpoints, and its fingerprint')
    .option('--raw', 'the raw 32-byte key in base64 instead of PEM')
    .action(async (opts: { raw?: boolean }) => {
      const { pem, raw, fingerprint } = await withServices('cli:audit-pubkey', async (app) => {
        const signer = app.get(AuditSigner);
        return {
          pem: signer.publicKeyPem().trimEnd(),
          raw: rawPublicKey(signer.publicKey).toString('base64'),
          fingerprint: signer.fingerprint,
        };
      });
      out(opts.raw ? raw : pem);
      out(`fingerprint ${fingerprint}`);
    });
}
