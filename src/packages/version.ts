/**
 * PEP 440 versions: parsing the permissive spelling, the normalised form, the canonical form
 * that decides whether two uploads are the same release, and ordering.
 *
 * Written here rather than taken from npm: `@renovatebot/pep440` 5.x needs Node 22, and 4.x
 * normalises local versions wrongly (`1.0+ubuntu-1` → `1.0+ubuntu,1`, packaging gives
 * `1.0+ubuntu.1`). The rules follow `packaging.version` (the reference implementation).
 */

/** `packaging.version.VERSION_PATTERN`, anchored, case-insensitive, surrounding whitespace allowed. */
const VERSION_RE = new RegExp(
  '^\\s*v?' +
    '(?:(?<epoch>[0-9]+)!)?' +
    '(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_.]?(?<preL>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<preN>[0-9]+)?)?' +
    '(?<post>(?:-(?<postN1>[0-9]+))|(?:[-_.]?(?<postL>post|rev|r)[-_.]?(?<postN2>[0-9]+)?))?' +
    '(?<dev>[-_.]?(?<devL>dev)[-_.]?(?<devN>[0-9]+)?)?' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?' +
    '\\s*$',
  'i',
);

/** Canonical (already normalised) public version, from the spec's appendix. */
const CANONICAL_RE =
  /^([1-9][0-9]*!)?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*((a|b|rc)(0|[1-9][0-9]*))?(\.post(0|[1-9][0-9]*))?(\.dev(0|[1-9][0-9]*))?$/;

export type PreReleaseLabel = 'a' | 'b' | 'rc';

export interface Version {
  epoch: bigint;
  release: bigint[];
  pre: [PreReleaseLabel, bigint] | null;
  post: bigint | null;
  dev: bigint | null;
  /** Normalised local label parts: numbers as bigint, the rest lower-case strings. */
  local: (bigint | string)[] | null;
}

export class InvalidVersionError extends Error {
  constructor(readonly input: string) {
    super(`'${input}' is not a valid PEP 440 version`);
    this.name = 'InvalidVersionError';
  }
}

const PRE_SPELLINGS: Record<string, PreReleaseLabel> = {
  a: 'a',
  alpha: 'a',
  b: 'b',
  beta: 'b',
  c: 'rc',
  rc: 'rc',
  pre: 'rc',
  preview: 'rc',
};

/** Parses any spelling PEP 440 accepts; `null` when it is not a version. */
export function tryParseVersion(input: string): Version | null {
  // PEP 440 allows surrounding whitespace, but not a NUL or other control character inside.
  if (input.length > 256) return null;
  const match = VERSION_RE.exec(input);
  if (!match?.groups) return null;
  const g = match.groups;
  const pre: Version['pre'] = g.preL
    ? [PRE_SPELLINGS[g.preL.toLowerCase()], BigInt(g.preN ?? '0')]
    : null;
  let post: bigint | null = null;
  if (g.postN1 !== undefined) post = BigInt(g.postN1);
  else if (g.postL !== undefined) post = BigInt(g.postN2 ?? '0');
  return {
    epoch: BigInt(g.epoch ?? '0'),
    release: g.release.split('.').map((part) => BigInt(part)),
    pre,
    post,
    dev: g.devL !== undefined ? BigInt(g.devN ?? '0') : null,
    // PEP 440: local separators normalise to `.`; numeric segments compare as integers.
    local: g.local
      ? g.local
          .toLowerCase()
          .split(/[-_.]/)
          .map((part) => (/^[0-9]+$/.test(part) ? BigInt(part) : part))
      : null,
  };
}

export function parseVersion(input: string): Version {
  const version = tryParseVersion(input);
  if (!version) throw new InvalidVersionError(input);
  return version;
}

export function isValidVersion(input: string): boolean {
  return tryParseVersion(input) !== null;
}

/** True when `input` is already written in the normalised, public form (no local label). */
export function isCanonicalPublicVersion(input: string): boolean {
  return CANONICAL_RE.test(input);
}

function render(version: Version, release: bigint[]): string {
  let out = version.epoch !== 0n ? `${version.epoch}!` : '';
  out += release.join('.');
  if (version.pre) out += `${version.pre[0]}${version.pre[1]}`;
  if (version.post !== null) out += `.post${version.post}`;
  if (version.dev !== null) out += `.dev${version.dev}`;
  if (version.local) out += `+${version.local.join('.')}`;
  return out;
}

/** `str(packaging.version.Version(v))`: `1.1RC1` → `1.1rc1`, `1.0-1` → `1.0.post1`. */
export function normalizeVersion(input: string | Version): string {
  const version = typeof input === 'string' ? parseVersion(input) : input;
  return render(version, version.release);
}

/**
 * `packaging.utils.canonicalize_version(v, strip_trailing_zero=True)`, as Warehouse stores
 * `Release.canonical_version`: trailing zeros of the release segment go, so `1.0` and
 * `1.0.0` (both canonical `1`) are one release.
 */
export function canonicalizeVersion(input: string | Version): string {
  const version = typeof input === 'string' ? parseVersion(input) : input;
  const release = [...version.release];
  while (release.length > 1 && release[release.length - 1] === 0n) release.pop();
  return render(version, release);
}

/** The public part (no local label), normalised. */
export function publicVersion(input: string | Version): string {
  const version = typeof input === 'string' ? parseVersion(input) : input;
  return render({ ...version, local: null }, version.release);
}

export function isPrerelease(input: string | Version): boolean {
  const version = typeof input === 'string' ? parseVersion(input) : input;
  return version.pre !== null || version.dev !== null;
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const PRE_ORDER: Record<PreReleaseLabel, number> = { a: 0, b: 1, rc: 2 };

/**
 * Orders as `packaging.version._cmpkey`: epoch, release (trailing zeros ignored), then
 * dev-only releases before pre-releases before the final, post-releases after it, and a
 * local label sorts after the same public version.
 */
export function compareVersions(left: string | Version, right: string | Version): number {
  const a = typeof left === 'string' ? parseVersion(left) : left;
  const b = typeof right === 'string' ? parseVersion(right) : right;
  let c = cmp(a.epoch, b.epoch);
  if (c) return c;
  const length = Math.max(a.release.length, b.release.length);
  for (let i = 0; i < length; i++) {
    c = cmp(a.release[i] ?? 0n, b.release[i] ?? 0n);
    if (c) return c;
  }
  c = preKey(a) - preKey(b);
  if (c) return Math.sign(c);
  if (a.pre && b.pre) {
    c = cmp(a.pre[1], b.pre[1]);
    if (c) return c;
  }
  // No post-release sorts before any post-release.
  if (a.post !== b.post) {
    if (a.post === null) return -1;
    if (b.post === null) return 1;
    c = cmp(a.post, b.post);
    if (c) return c;
  }
  // No dev-release sorts after any dev-release.
  if (a.dev !== b.dev) {
    if (a.dev === null) return 1;
    if (b.dev === null) return -1;
    c = cmp(a.dev, b.dev);
    if (c) return c;
  }
  return compareLocal(a.local, b.local);
}

/** Rank of the pre-release slot: dev-only (`1.0.dev0`) < a < b < rc < none. */
function preKey(v: Version): number {
  if (v.pre === null && v.post === null && v.dev !== null) return -1;
  if (v.pre === null) return 3;
  return PRE_ORDER[v.pre[0]];
}

function compareLocal(a: Version['local'], b: Version['local']): number {
  if (a === null && b === null) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    // PEP 440: numeric segments sort after alphanumeric ones.
    if (typeof x === 'bigint' && typeof y === 'bigint') {
      const c = cmp(x, y);
      if (c) return c;
    } else if (typeof x === 'bigint') {
      return 1;
    } else if (typeof y === 'bigint') {
      return -1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return Math.sign(a.length - b.length);
}

/** Sorts version strings ascending (invalid ones are a programming error here). */
export function sortVersions(versions: readonly string[]): string[] {
  const parsed = versions.map((v) => ({ v, p: parseVersion(v) }));
  parsed.sort((x, y) => compareVersions(x.p, y.p));
  return parsed.map((x) => x.v);
}

const SPECIFIER_RE = /^(~=|===|==|!=|<=|>=|<|>)\s*(\S+)$/;

/**
 * A PEP 440 specifier set (`>=3.8, !=3.9.*`), as `Requires-Python` carries it. Invalid ones
 * are refused at upload: pip and uv read them from every simple page.
 */
export function isValidSpecifierSet(input: string): boolean {
  if (input.trim() === '') return false;
  return input.split(',').every((clause) => {
    const match = SPECIFIER_RE.exec(clause.trim());
    if (!match) return false;
    const [, op, value] = match;
    if (op === '===') return /^[^\s,;]+$/.test(value);
    const wildcard = value.endsWith('.*');
    if (wildcard && op !== '==' && op !== '!=') return false;
    const version = tryParseVersion(wildcard ? value.slice(0, -2) : value);
    if (!version) return false;
    // Local labels only with == and != (PEP 440), prefix matching never with them.
    if (version.local && ((op !== '==' && op !== '!=') || wildcard)) return false;
    if (op === '~=' && version.release.length < 2) return false;
    return true;
  });
}
