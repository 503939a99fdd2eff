import { createHash, createHmac } from 'node:crypto';
import { SocketAddress, isIP } from 'node:net';

/**
 * The hash chain's canonical encoding (docs/audit.md, "The chain"). Version 1:
 *
 *   hash = sha256(prev_hash ‖ utf8(JSON.stringify(["larder-audit-v1", id, occurred_at, tag,
 *            actor_id, actor_name, actor_kind, actor_token_id, actor_token_name,
 *            actor_two_factor, user_id, project_id, project_name, ip_hash, user_agent,
 *            request_id, additional, plugin])))
 *
 * `id` is decimal text, `occurred_at` is UTC ISO 8601 with exactly six fractional digits, uuids
 * are lower case, `ip_hash` is lower-case hex (or null) and `additional` has its object keys
 * sorted at every depth. The raw IP is not in it, only its keyed hash, so the IP retention can
 * drop the IP without breaking the chain.
 */
export const CHAIN_VERSION = 'larder-audit-v1';

/** The `prev_hash` of the very first row. */
export const GENESIS = Buffer.alloc(32);

/** The fields that are hashed, as read back from the database (or about to be written). */
export interface ChainFields {
  id: string;
  /** UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
  occurredAt: string;
  tag: string;
  actorId: string | null;
  actorName: string | null;
  actorKind: string;
  actorTokenId: string | null;
  actorTokenName: string | null;
  actorTwoFactor: string | null;
  userId: string | null;
  projectId: string | null;
  projectName: string | null;
  ipHash: Buffer | null;
  userAgent: string | null;
  requestId: string | null;
  additional: unknown;
  plugin: string;
}

/** `occurred_at` as SQL renders it for the chain (see {@link isoMicros}). */
export const OCCURRED_AT_SQL = `to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** A JS date (millisecond precision) in the chain's fixed microsecond form. */
export function isoMicros(date: Date): string {
  return `${date.toISOString().slice(0, 23)}000Z`;
}

/** Deep copy with object keys sorted; what JSON can hold only (as jsonb gives it back). */
export function canonicalJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalJson);
  if (value !== null && typeof value === 'object') {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      sorted[key] = canonicalJson((value as Record<string, unknown>)[key]);
    }
    return sorted;
  }
  return value;
}

const lower = (value: string | null) => (value === null ? null : value.toLowerCase());

/** The bytes hashed after `prev_hash`. */
export function canonical(row: ChainFields): Buffer {
  return Buffer.from(
    JSON.stringify([
      CHAIN_VERSION,
      row.id,
      row.occurredAt,
      row.tag,
      lower(row.actorId),
      row.actorName,
      row.actorKind,
      lower(row.actorTokenId),
      row.actorTokenName,
      row.actorTwoFactor,
      lower(row.userId),
      lower(row.projectId),
      row.projectName,
      row.ipHash ? row.ipHash.toString('hex') : null,
      row.userAgent,
      row.requestId,
      canonicalJson(row.additional ?? {}),
      row.plugin,
    ]),
    'utf8',
  );
}

export function rowHash(prevHash: Buffer, row: ChainFields): Buffer {
  return createHash('sha256').update(prevHash).update(canonical(row)).digest();
}

/** An IP in the one text form used for keyed hashes (`2001:DB8:0::1` → `2001:db8::1`). */
export function normalizeIp(ip: string): string {
  const family = isIP(ip);
  if (!family) return ip;
  return new SocketAddress({ address: ip, family: family === 4 ? 'ipv4' : 'ipv6' }).address;
}

/**
 * The keyed hash that stands for an IP in the chain and after the IP retention: HMAC-SHA256
 * keyed with the app secret, so nobody without the secret can test guesses against it.
 */
export function ipKey(secret: string, ip: string): Buffer {
  return createHmac('sha256', `larder-audit-ip:${secret}`).update(normalizeIp(ip)).digest();
}
