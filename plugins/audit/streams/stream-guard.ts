import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { constants, lstatSync, mkdirSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Config } from '../../../src/plugin-api/index.js';
import type { AuditOptions } from '../audit.options.js';

/*
 * What keeps an admin-configured destination from becoming a weapon: a webhook must not reach
 * the host itself, its network or a cloud metadata service (SSRF), and a file destination must
 * not append attacker-influenced text (an attempted username…) to any file the app can write,
 * such as a shell rc file. See docs/audit.md "Streaming".
 */

// ---------------------------------------------------------------------------------------------
// Webhooks: addresses

type Range = [prefix: number[], bits: number, why: string];

const V4: Range[] = [
  [[0, 0, 0, 0], 8, 'unspecified'],
  [[10, 0, 0, 0], 8, 'private'],
  // Shared address space (carrier-grade NAT); Alibaba Cloud's metadata service is 100.100.100.200.
  [[100, 64, 0, 0], 10, 'private'],
  [[127, 0, 0, 0], 8, 'loopback'],
  [[169, 254, 0, 0], 16, 'link-local'],
  [[172, 16, 0, 0], 12, 'private'],
  [[192, 168, 0, 0], 16, 'private'],
  [[224, 0, 0, 0], 4, 'multicast'],
  // Reserved, and the broadcast address.
  [[240, 0, 0, 0], 4, 'reserved'],
];

const V6: Range[] = [
  [new Array(16).fill(0), 128, 'unspecified'],
  [[...new Array(15).fill(0), 1], 128, 'loopback'],
  [[0xfe, 0x80], 10, 'link-local'],
  // Deprecated site-local, still routed as private by some stacks.
  [[0xfe, 0xc0], 10, 'private'],
  [[0xfc], 7, 'private'],
  [[0xff], 8, 'multicast'],
];

/** IPv6 prefixes whose last 32 bits are an IPv4 address that is what really gets reached. */
const V4_IN_V6: Array<[prefix: number[], what: string]> = [
  [[...new Array(10).fill(0), 0xff, 0xff], 'IPv4-mapped'],
  [new Array(12).fill(0), 'IPv4-compatible'],
  [[0x00, 0x64, 0xff, 0x9b, ...new Array(8).fill(0)], 'NAT64'],
];

function inRange(bytes: number[], [prefix, bits]: Range): boolean {
  for (let i = 0; i < bits; i += 8) {
    const mask = bits - i >= 8 ? 0xff : (0xff << (8 - (bits - i))) & 0xff;
    if ((bytes[i / 8] & mask) !== ((prefix[i / 8] ?? 0) & mask)) return false;
  }
  return true;
}

function v4Bytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** The 16 bytes of an IPv6 address (`isIP(ip) === 6`; a zone `%eth0` is ignored). */
function v6Bytes(ip: string): number[] {
  let text = ip.replace(/%.*$/, '');
  const tail: number[] = [];
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail.push(...v4Bytes(dotted[1]));
    text = `${text.slice(0, dotted.index)}:0:0`;
  }
  const [head, rest] = text.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const left = groups(head);
  const right = groups(rest);
  const all =
    rest === undefined
      ? left
      : [...left, ...new Array(8 - left.length - right.length).fill('0'), ...right];
  const bytes = all.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

/**
 * Why a webhook may not connect to `ip` (e.g. "loopback"), or null when it may. IPv6 forms that
 * carry an IPv4 address (`::ffff:127.0.0.1`, `::127.0.0.1`, `64:ff9b::7f00:1`) are judged by it.
 */
export function forbiddenAddress(ip: string): string | null {
  const family = isIP(ip);
  if (family === 4) return V4.find((r) => inRange(v4Bytes(ip), r))?.[2] ?? null;
  if (family !== 6) return 'not an IP address';
  const bytes = v6Bytes(ip);
  const own = V6.find((r) => inRange(bytes, r));
  if (own) return own[2];
  for (const [prefix, what] of V4_IN_V6) {
    if (prefix.every((b, i) => bytes[i] === b)) {
      const why = forbiddenAddress(bytes.slice(12).join('.'));
      return why && `${what} ${why}`;
    }
  }
  return null;
}

/** A URL's host as `net` takes it: `[::1]` → `::1`. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** The refusal in words, or null when every address is allowed. */
function refusal(host: string, addresses: string[]): string | null {
  for (const address of addresses) {
    const why = forbiddenAddress(address);
    if (why) {
      const via = address === host ? '' : ` (resolves to ${address})`;
      return `${host}${via} is a forbidden address (${why}): webhooks may not reach this server, its private networks or cloud metadata services unless LARDER_PLUGIN_AUDIT_STREAM_ALLOW_PRIVATE=true`;
    }
  }
  return null;
}

/**
 * At `add`: every address `url`'s host resolves to (or the literal IP) must be allowed. The
 * problem in words, or null. Delivery checks again (`guardedLookup`): DNS may change meanwhile.
 */
export async function checkWebhookTarget(url: URL): Promise<string | null> {
  const host = hostOf(url);
  if (isIP(host)) return refusal(host, [host]);
  let addresses: LookupAddress[];
  try {
    addresses = await new Promise((ok, fail) =>
      dnsLookup(host, { all: true, verbatim: true }, (err, list) => (err ? fail(err) : ok(list))),
    );
  } catch (error) {
    return `${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  return refusal(
    host,
    addresses.map((a) => a.address),
  );
}

type Resolver = (
  host: string,
  options: { all: true; family?: number; hints?: number },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A `lookup` for `net.connect` that fails when the name resolves to any forbidden address, so
 * the address actually connected to is one that was checked (no DNS rebinding between a check
 * and the connection). Answers in both shapes `net` asks for (`all` with autoSelectFamily).
 * Literal IPs never reach a lookup: the caller checks them (`refuseLiteral`).
 */
export function lookupVia(resolver: Resolver): LookupFunction {
  return ((
    host: string,
    options: { all?: boolean; family?: number; hints?: number },
    callback: (
      err: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ): void => {
    resolver(host, { ...options, all: true }, (err, list) => {
      if (err) return callback(err, options.all ? [] : '', 0);
      const problem = refusal(
        host,
        list.map((a) => a.address),
      );
      if (problem) {
        const error: NodeJS.ErrnoException = new Error(`refused: ${problem}`);
        error.code = 'EADDRFORBIDDEN';
        return callback(error, options.all ? [] : '', 0);
      }
      if (options.all) return callback(null, list);
      callback(null, list[0].address, list[0].family);
    });
  }) as unknown as LookupFunction;
}

export const guardedLookup = lookupVia(dnsLookup as unknown as Resolver);

/** For a URL whose host is a literal IP (no lookup happens): the refusal, or null. */
export function refuseLiteral(url: URL): string | null {
  const host = hostOf(url);
  return isIP(host) ? refusal(host, [host]) : null;
}

// ---------------------------------------------------------------------------------------------
// Files

/** A file destination's name: no directory part, no leading dot. */
export const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Where file destinations live: `LARDER_PLUGIN_AUDIT_STREAM_DIR`, else `<data dir>/audit-streams`. */
export function streamDirOf(options: AuditOptions, config: Config): string {
  return resolve(options.streamDir || join(config.dataDir, 'audit-streams'));
}

/** Creates the directory (0700) when it is missing. */
export function ensureStreamDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * The file name to store for what the admin typed: a plain name, or an absolute path directly
 * inside `dir` (reduced to its name). Throws an Error whose message says why not.
 */
export function fileNameFor(target: string, dir: string): string {
  if (isAbsolute(target)) {
    const full = resolve(target);
    if (dirname(full) === dir && FILE_NAME.test(basename(full))) return basename(full);
    throw new Error(
      `a file destination must be a file directly in ${dir} (LARDER_PLUGIN_AUDIT_STREAM_DIR): give its name, such as audit.jsonl`,
    );
  }
  if (!FILE_NAME.test(target)) {
    throw new Error(
      `a file destination is a file name in ${dir}: letters, digits, dots, dashes and underscores, starting with a letter or digit (no / or ..)`,
    );
  }
  return target;
}

/** lstat, or null when nothing is there. */
export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

// O_NOFOLLOW: a symlink placed in the directory must not redirect writes. O_NONBLOCK: a FIFO
// put there fails to open instead of hanging the worker (no effect on regular files).
const APPEND =
  constants.O_WRONLY |
  constants.O_APPEND |
  constants.O_CREAT |
  (constants.O_NOFOLLOW ?? 0) |
  (constants.O_NONBLOCK ?? 0);

/**
 * Appends `text` to the destination's file inside `dir`, created 0600. Rows stored before file
 * destinations were confined (absolute paths) are written only when the path is directly in
 * `dir`. Throws an Error whose message is the delivery error to record.
 */
export async function appendToStreamFile(dir: string, target: string, text: string): Promise<void> {
  let name: string;
  try {
    name = fileNameFor(target, dir);
  } catch (error) {
    throw new Error(
      `refused: ${target} is not in the stream directory; ${(error as Error).message}`,
    );
  }
  ensureStreamDir(dir);
  const path = join(dir, name);
  let handle;
  try {
    handle = await open(path, APPEND, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new Error(`refused: ${path} is a symbolic link`);
    }
    throw error;
  }
  try {
    if (!(await handle.stat()).isFile()) throw new Error(`refused: ${path} is not a regular file`);
    await handle.appendFile(text);
  } finally {
    await handle.close();
  }
}
