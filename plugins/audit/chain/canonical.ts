import { createHash, createHmac, hash } from 'node:crypto';
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
  // Most values are already in canonical order (jsonb returns short keys first): no copy then.
  if (isCanonical(value)) return value;
  return sortedCopy(value);
}

function sortedCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedCopy);
  if (value !== null && typeof value === 'object') {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      sorted[key] = sortedCopy((value as Record<string, unknown>)[key]);
    }
    return sorted;
  }
  return value;
}

/**
 * Whether {@link sortedCopy} would serialise exactly as `value` does: plain arrays and objects
 * only, every object's keys already in `.sort()` order (the copy then gets the same key order,
 * integer-like keys included), and no `__proto__` (the copy's assignment would set the prototype
 * and drop the key) or `toJSON` key. Anything else takes the copy, as before.
 */
function isCanonical(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return typeof value !== 'function';
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (Array.isArray(value)) {
    if (prototype !== Array.prototype) return false;
    for (const item of value) if (!isCanonical(item)) return false;
    return true;
  }
  if (prototype !== Object.prototype && prototype !== null) return false;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (key === '__proto__' || key === 'toJSON' || (i > 0 && !(keys[i - 1] < key))) return false;
    if (!isCanonical((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

const lower = (value: string | null) => (value === null ? null : value.toLowerCase());

/** The text hashed after `prev_hash`, with `ip_hash` given as lower-case hex. */
export function canonicalText(row: Omit<ChainFields, 'ipHash'>, ipHashHex: string | null): string {
  return canonicalHead(row.id, row.occurredAt) + canonicalTail(row, ipHashHex);
}

/**
 * The start of {@link canonicalText}: `["larder-audit-v1","<id>","<occurred_at>",`. All three are
 * ASCII needing no escapes, so the database writes it the same way (`audit_chain_append`,
 * migration 1796400000000, which knows the id and the floored time only once it holds the lock).
 */
function canonicalHead(id: string, occurredAt: string): string {
  return `["${CHAIN_VERSION}","${id}","${occurredAt}",`;
}

/** The rest of {@link canonicalText}: every field after `occurred_at`, and the closing `]`. */
export function canonicalTail(
  row: Omit<ChainFields, 'id' | 'occurredAt' | 'ipHash'>,
  ipHashHex: string | null,
): string {
  return JSON.stringify([
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
    ipHashHex,
    row.userAgent,
    row.requestId,
    canonicalJson(row.additional ?? {}),
    row.plugin,
  ]).slice(1);
}

/** The bytes hashed after `prev_hash`. */
export function canonical(row: ChainFields): Buffer {
  return Buffer.from(canonicalText(row, row.ipHash ? row.ipHash.toString('hex') : null), 'utf8');
}

export function rowHash(prevHash: Buffer, row: ChainFields): Buffer {
  return createHash('sha256').update(prevHash).update(canonical(row)).digest();
}

/**
 * {@link canonicalText} up to `request_id`, as a JSON array rendered by PostgreSQL for the verify
 * walk, so that it need not parse and re-serialise sixteen fields a row (see
 * {@link canonicalFromHead}). `array_to_json` writes no spaces and escapes text as
 * `JSON.stringify` does (`"`, `\`, `\b \f \n \r \t`, other control characters as lower-case
 * `\u00xx`, the rest as is), and uuids come out in lower case. A rendering that differed could
 * only make a row fail the fast check (it is then hashed the plain way): JSON that hashes to the
 * stored hash decodes to the values that were hashed.
 */
export const CANONICAL_HEAD_SQL = `array_to_json(ARRAY[${[
  `'${CHAIN_VERSION}'`,
  'id::text',
  OCCURRED_AT_SQL,
  'tag::text',
  'actor_id::text',
  'actor_name::text',
  'actor_kind::text',
  'actor_token_id::text',
  'actor_token_name::text',
  'actor_two_factor::text',
  'user_id::text',
  'project_id::text',
  'project_name::text',
  `encode(ip_hash, 'hex')`,
  'user_agent::text',
  'request_id::text',
].join(', ')}])::text`;

/** {@link canonicalText} from {@link CANONICAL_HEAD_SQL}'s array and the fields after it. */
export function canonicalFromHead(head: string, additional: unknown, plugin: string): string {
  return `${head.slice(0, -1)},${JSON.stringify(canonicalJson(additional ?? {}))},${JSON.stringify(plugin)}]`;
}

const scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * {@link rowHash} for the verify walk, of `prev_hash` as hex and the canonical text: lower-case
 * hex out. A one-shot hash of a reused buffer, as a million rows' worth of Hash objects and
 * Buffers cost more than the hashing.
 */
export function rowHashHex(prevHashHex: string, text: string): string {
  const prevLength = prevHashHex.length >>> 1;
  // UTF-8 takes at most 3 bytes per UTF-16 unit.
  if (prevLength + text.length * 3 > scratch.length) {
    return createHash('sha256').update(prevHashHex, 'hex').update(text, 'utf8').digest('hex');
  }
  const start = scratch.write(prevHashHex, 0, 'hex');
  const end = start + scratch.write(text, start, 'utf8');
  return hash('sha256', scratch.subarray(0, end), 'hex');
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
  if (secret !== keyedWith || ipKeys.size >= 4096) {
    keyedWith = secret;
    ipKeys.clear();
  }
  let key = ipKeys.get(ip);
  if (!key) {
    key = createHmac('sha256', `larder-audit-ip:${secret}`).update(normalizeIp(ip)).digest();
    ipKeys.set(ip, key);
  }
  return key;
}

/**
 * The keys of recent IPs, for {@link ipKey}: every audited write hashes its client's address,
 * and an index sees the same few addresses all day (~90 µs a write, mostly `SocketAddress`).
 * Callers must not modify the buffers.
 */
const ipKeys = new Map<string, Buffer>();
let keyedWith: string | undefined;
