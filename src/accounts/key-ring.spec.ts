import { loadConfig } from '../config/config.js';
import { KeyRing } from './key-ring.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function ring(secret: string): KeyRing {
  const dir = mkdtempSync(join(tmpdir(), 'larder-keyring-'));
  return new KeyRing(loadConfig({ LARDER_DATA_DIR: dir, LARDER_SECRET: secret }));
}

describe('KeyRing', () => {
  const keys = ring('k'.repeat(40));

  it('derives one key per purpose: the same value hashes differently for each', () => {
    expect(keys.hash('api-token', 'v')).toMatch(/^[0-9a-f]{64}$/);
    expect(keys.hash('api-token', 'v')).toBe(keys.hash('api-token', 'v'));
    expect(keys.hash('api-token', 'v')).not.toBe(keys.hash('recovery-code', 'v'));
    expect(ring('z'.repeat(40)).hash('api-token', 'v')).not.toBe(keys.hash('api-token', 'v'));
  });

  it('encrypts so that only the same purpose and secret decrypt, and tampering is detected', () => {
    const sealed = keys.encrypt('totp-secret', 'JBSWY3DPEHPK3PXP');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(keys.encrypt('totp-secret', 'JBSWY3DPEHPK3PXP')).not.toBe(sealed);
    expect(keys.decrypt('totp-secret', sealed)).toBe('JBSWY3DPEHPK3PXP');
    expect(keys.decrypt('session-data', sealed)).toBeNull();
    expect(ring('z'.repeat(40)).decrypt('totp-secret', sealed)).toBeNull();
    const [iv, body, tag] = sealed.split('.');
    // The first character: the last one of base64url may carry padding bits only.
    const flipped = (body.startsWith('A') ? 'B' : 'A') + body.slice(1);
    expect(keys.decrypt('totp-secret', [iv, flipped, tag].join('.'))).toBeNull();
    expect(keys.decrypt('totp-secret', 'garbage')).toBeNull();
  });

  it('signs expiring payloads and refuses altered, foreign or expired ones', () => {
    const token = keys.sign('password-reset', { u: 'id-1' }, 60);
    expect(keys.verify('password-reset', token)).toMatchObject({ u: 'id-1' });
    expect(keys.verify('email-verification', token)).toBeNull();
    const [body, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ u: 'id-2', exp: 9e9 })).toString('base64url');
    expect(keys.verify('password-reset', `${forged}.${sig}`)).toBeNull();
    expect(keys.verify('password-reset', `${body}.${sig}.extra`)).toBeNull();
    expect(keys.verify('password-reset', keys.sign('password-reset', { u: 'x' }, -1))).toBeNull();
  });

  it('compares digests in constant time and never equal when empty or of different length', () => {
    expect(KeyRing.sameDigest('ab', 'ab')).toBe(true);
    expect(KeyRing.sameDigest('ab', 'ac')).toBe(false);
    expect(KeyRing.sameDigest('', '')).toBe(false);
    expect(KeyRing.sameDigest('abcd', 'ab')).toBe(false);
  });
});
