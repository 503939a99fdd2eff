import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';

/** What each derived key is for; one key per purpose, so a value made for one is useless for another. */
export type KeyPurpose =
  | 'api-token'
  | 'recovery-code'
  | 'totp-secret'
  | 'session-data'
  | 'csrf'
  | 'email-verification'
  | 'password-reset'
  | 'two-factor-login';

/**
 * Keys derived from LARDER_SECRET (HKDF-SHA256, one per purpose): keyed hashes of tokens and
 * recovery codes, encryption of TOTP secrets at rest, and signed, expiring links.
 * Changing LARDER_SECRET therefore invalidates API tokens, recovery codes, TOTP enrolments,
 * sessions' CSRF tokens and outstanding links.
 */
@Injectable()
export class KeyRing {
  private readonly keys = new Map<KeyPurpose, Buffer>();

  constructor(@Inject(CONFIG) private readonly config: Config) {}

  private key(purpose: KeyPurpose): Buffer {
    let key = this.keys.get(purpose);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', this.config.secret, 'larder', `larder:${purpose}`, 32));
      this.keys.set(purpose, key);
    }
    return key;
  }

  /** HMAC-SHA256 in hex: for high-entropy values (tokens, recovery codes), fast and unguessable. */
  hash(purpose: KeyPurpose, value: string): string {
    return createHmac('sha256', this.key(purpose)).update(value).digest('hex');
  }

  /** Compares two hex digests in constant time. */
  static sameDigest(a: string, b: string): boolean {
    const left = Buffer.from(a, 'hex');
    const right = Buffer.from(b, 'hex');
    return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
  }

  /** AES-256-GCM; the result is `iv.ciphertext.tag` in base64url. */
  encrypt(purpose: KeyPurpose, plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key(purpose), iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [iv, body, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.');
  }

  /** The plaintext, or `null` when the value was tampered with or made under another key. */
  decrypt(purpose: KeyPurpose, sealed: string): string | null {
    const [iv, body, tag] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
    if (!iv || !body || !tag) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key(purpose), iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }

  /** A signed, expiring token carrying `payload` (not secret: readable by whoever holds it). */
  sign(purpose: KeyPurpose, payload: Record<string, unknown>, ttlSeconds: number): string {
    const body = Buffer.from(
      JSON.stringify({ ...payload, exp: Math.floor(Date.now() / 1000) + ttlSeconds }),
    ).toString('base64url');
    return `${body}.${createHmac('sha256', this.key(purpose)).update(body).digest('base64url')}`;
  }

  /** The payload of a token made by {@link sign}; `null` when forged, altered or expired. */
  verify<T extends Record<string, unknown>>(purpose: KeyPurpose, token: string): T | null {
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined) return null;
    const expected = createHmac('sha256', this.key(purpose)).update(body).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      if (typeof payload?.exp !== 'number' || payload.exp < Date.now() / 1000) return null;
      return payload as T;
    } catch {
      return null;
    }
  }
}
