import { Inject, Injectable } from '@nestjs/common';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG, type Config } from '../../src/plugin-api/index.js';

/** What a checkpoint's signature covers. */
export interface CheckpointStatement {
  id: string;
  kind: 'checkpoint' | 'anchor';
  headId: string;
  headHash: Buffer;
  signedAt: Date;
}

/** The exact bytes signed: versioned, one field a line. */
export function checkpointMessage(c: CheckpointStatement): Buffer {
  return Buffer.from(
    [
      'larder-audit-checkpoint-v1',
      c.kind,
      c.id,
      c.headId,
      c.headHash.toString('hex'),
      c.signedAt.toISOString(),
    ].join('\n'),
    'utf8',
  );
}

/** `SHA256:<base64>` of the raw 32-byte public key, as OpenSSH prints key fingerprints. */
export function fingerprint(publicKey: KeyObject): string {
  const raw = rawPublicKey(publicKey);
  return `SHA256:${createHash('sha256').update(raw).digest('base64').replace(/=+$/, '')}`;
}

export function rawPublicKey(publicKey: KeyObject): Buffer {
  // The SPKI DER of an Ed25519 key ends in the 32 raw bytes.
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
}

/** The file, in the data dir, that holds the checkpoint signing key (PKCS#8 PEM, mode 0600). */
export const KEY_FILE = 'audit-signing-key.pem';

/**
 * The Ed25519 key that signs checkpoints: `<data dir>/audit-signing-key.pem`, made on first
 * use. Several nodes must share the file (like the secret), or each signs with its own key
 * and `verify` knows only its own (docs/audit.md).
 */
@Injectable()
export class AuditSigner {
  private key?: { privateKey: KeyObject; publicKey: KeyObject; fingerprint: string };

  constructor(@Inject(CONFIG) private readonly config: Config) {}

  get path(): string {
    return join(this.config.dataDir, KEY_FILE);
  }

  private load() {
    if (this.key) return this.key;
    let pem: string;
    try {
      pem = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const pair = generateKeyPairSync('ed25519');
      const fresh = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      try {
        // 'wx': another process that made it first wins, and we read theirs.
        writeFileSync(this.path, fresh, { mode: 0o600, flag: 'wx' });
        pem = fresh;
      } catch {
        pem = readFileSync(this.path, 'utf8');
      }
    }
    const privateKey = createPrivateKey(pem);
    if (privateKey.asymmetricKeyType !== 'ed25519') {
      throw new Error(`${this.path}: not an Ed25519 private key`);
    }
    const publicKey = createPublicKey(privateKey);
    this.key = { privateKey, publicKey, fingerprint: fingerprint(publicKey) };
    return this.key;
  }

  get publicKey(): KeyObject {
    return this.load().publicKey;
  }

  get fingerprint(): string {
    return this.load().fingerprint;
  }

  /** The public key as PEM (SPKI), for `larder audit pubkey`. */
  publicKeyPem(): string {
    return this.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  }

  sign(statement: CheckpointStatement): Buffer {
    return sign(null, checkpointMessage(statement), this.load().privateKey);
  }

  /** Whether `signature` is this key's over `statement`. */
  verify(statement: CheckpointStatement, signature: Buffer, publicKey = this.publicKey): boolean {
    return verify(null, checkpointMessage(statement), publicKey, signature);
  }
}
