import { BlockList, isIP } from 'node:net';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { isAbsolute, join, resolve } from 'node:path';

/**
 * Larder's configuration: read from the environment once, at boot, into this typed object.
 * Nothing else in the code reads `process.env` (DESIGN.md §6).
 */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** `undefined` → embedded PostgreSQL (PGlite) under `dataDir/pg`. */
  databaseUrl: string | undefined;
  storage: 'fs' | 's3';
  /** Credentials come from the AWS SDK's own chain (env, shared files, instance roles). */
  s3: {
    bucket?: string;
    endpoint?: string;
    region?: string;
    /** Path-style URLs (`endpoint/bucket/key`), which most S3-compatible stores need. */
    forcePathStyle: boolean;
    /** Key prefix inside the bucket, e.g. `larder/`. */
    prefix: string;
  };
  baseUrl: string;
  readAccess: 'public' | 'authenticated';
  registration: 'open' | 'closed';
  /** Signs sessions and CSRF tokens, keys IP hashes. Never logged. */
  secret: string;
  plugins: string[];
  /**
   * LARDER_PLUGINS was unset, so `plugins` is the default list: first-party plugins missing
   * from this build are skipped instead of failing the boot (docs/plugins.md).
   */
  pluginsDefaulted: boolean;
  pluginsStrict: boolean;
  trustedProxies: string[];
  /** Built from `trustedProxies`: asks whether a peer address may set X-Forwarded-For. */
  trustedProxyList: BlockList;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** When set, `/metrics` asks for `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  maxUploadMb: number;
  /** Accept PEP 440 local versions (`1.0+build.3`) on upload; PyPI refuses them. */
  allowLocalVersions: boolean;
  hookTimeoutMs: number;
  /**
   * The audit plugin refuses (throws on) a change to an audited table it cannot attribute or
   * map to a tag, instead of recording what it can and logging an error. On under Jest
   * (NODE_ENV=test) so such a bug fails the test that causes it; `LARDER_AUDIT_STRICT`.
   */
  auditStrict: boolean;
  /** Audit events older than this many days are pruned daily; `undefined` keeps them forever. */
  auditRetentionDays: number | undefined;
  /** IPs of audit events older than this many days are replaced by their keyed hash. */
  auditIpRetentionDays: number | undefined;
  /** `smtp://user:pass@host:587` or `smtps://…`; unset → e-mails are written to the log instead. */
  smtpUrl: string | undefined;
  /** The From: of e-mails Larder sends. */
  mailFrom: string;
  /** Browser sessions: idle and absolute lifetimes. */
  session: { idleMinutes: number; maxHours: number };
  /** Failed sign-ins allowed per account and per client IP within the window, then 429. */
  loginLimits: { perAccount: number; perIp: number; windowMinutes: number };
  /** The raw environment, kept for plugin options (`LARDER_PLUGIN_<NAME>_<OPTION>`). */
  env: Readonly<Record<string, string | undefined>>;
}

/** A bad configuration value: the message is one line naming the variable and the problem. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function str(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value.trim() === '' ? fallback : value.trim();
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function optionalInt(env: Env, name: string, min: number, max: number): number | undefined {
  return optional(env, name) === undefined ? undefined : int(env, name, 0, min, max);
}

function oneOf<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = raw.toLowerCase() as T;
  if (!choices.includes(value)) {
    throw new ConfigError(name, `must be one of ${choices.join(', ')}, got "${raw}"`);
  }
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function list(env: Env, name: string, fallback: string[]): string[] {
  const raw = env[name];
  if (raw === undefined) return fallback;
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw;
}

/** Parses `10.0.0.0/8`, `::1`, `192.168.1.7` into a BlockList; a bad entry names itself. */
export function parseCidrs(variable: string, entries: string[]): BlockList {
  const blocks = new BlockList();
  for (const entry of entries) {
    const [address, prefixText, ...rest] = entry.split('/');
    const family = isIP(address);
    const bad = () => new ConfigError(variable, `"${entry}" is not an IP address or CIDR`);
    if (family === 0 || rest.length > 0) throw bad();
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) {
      blocks.addAddress(address, type);
      continue;
    }
    const prefix = Number(prefixText);
    if (!/^\d+$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) throw bad();
    blocks.addSubnet(address, prefix, type);
  }
  return blocks;
}

function s3Prefix(raw: string | undefined): string {
  if (raw === undefined) return '';
  const trimmed = raw.replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9._/-]+$/.test(trimmed) || trimmed.split('/').some((s) => s === '..')) {
    throw new ConfigError('LARDER_S3_PREFIX', `"${raw}" is not a safe key prefix`);
  }
  return `${trimmed}/`;
}

/**
 * The secret is taken from LARDER_SECRET, or read from (and on first start written to)
 * `<dataDir>/secret`, readable only by its owner.
 */
function resolveSecret(env: Env, dataDir: string): string {
  const given = optional(env, 'LARDER_SECRET');
  if (given !== undefined) {
    if (given.length < 32) throw new ConfigError('LARDER_SECRET', 'must be at least 32 characters');
    return given;
  }
  const file = join(dataDir, 'secret');
  if (existsSync(file)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length < 32) {
      throw new ConfigError('LARDER_SECRET', `${file} holds fewer than 32 characters`);
    }
    return stored;
  }
  const secret = randomBytes(32).toString('base64url');
  // 'wx' fails if another process created it meanwhile; then read theirs.
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch {
    return readFileSync(file, 'utf8').trim();
  }
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const port = int(env, 'PORT', 8080, 0, 65535);
  const host = str(env, 'HOST', '127.0.0.1');
  const dataDirRaw = str(env, 'LARDER_DATA_DIR', './data');
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw);
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    throw new ConfigError(
      'LARDER_DATA_DIR',
      `cannot create ${dataDir}: ${(error as Error).message}`,
    );
  }

  const storage = oneOf(env, 'LARDER_STORAGE', ['fs', 's3'] as const, 'fs');
  const s3 = {
    bucket: optional(env, 'LARDER_S3_BUCKET'),
    endpoint: url(env, 'LARDER_S3_ENDPOINT', ['http:', 'https:']),
    region: optional(env, 'LARDER_S3_REGION'),
    forcePathStyle: bool(env, 'LARDER_S3_FORCE_PATH_STYLE', false),
    prefix: s3Prefix(optional(env, 'LARDER_S3_PREFIX')),
  };
  if (storage === 's3' && !s3.bucket) {
    throw new ConfigError('LARDER_S3_BUCKET', 'is required when LARDER_STORAGE=s3');
  }

  const displayHost = host.includes(':') ? `[${host}]` : host;
  const baseUrl = (
    url(env, 'LARDER_BASE_URL', ['http:', 'https:']) ?? `http://${displayHost}:${port}`
  ).replace(/\/+$/, '');

  const trustedProxies = list(env, 'LARDER_TRUSTED_PROXIES', []);

  return {
    port,
    host,
    dataDir,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    storage,
    s3,
    baseUrl,
    readAccess: oneOf(env, 'LARDER_READ_ACCESS', ['public', 'authenticated'] as const, 'public'),
    registration: oneOf(env, 'LARDER_REGISTRATION', ['open', 'closed'] as const, 'closed'),
    secret: resolveSecret(env, dataDir),
    plugins: list(env, 'LARDER_PLUGINS', ['audit']),
    pluginsDefaulted: env.LARDER_PLUGINS === undefined,
    pluginsStrict: bool(env, 'LARDER_PLUGINS_STRICT', true),
    trustedProxies,
    trustedProxyList: parseCidrs('LARDER_TRUSTED_PROXIES', trustedProxies),
    logLevel: oneOf(
      env,
      'LARDER_LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      'info',
    ),
    metricsToken: optional(env, 'LARDER_METRICS_TOKEN'),
    maxUploadMb: int(env, 'LARDER_MAX_UPLOAD_MB', 100, 1, 100_000),
    allowLocalVersions: bool(env, 'LARDER_ALLOW_LOCAL_VERSIONS', false),
    hookTimeoutMs: int(env, 'LARDER_HOOK_TIMEOUT_MS', 5000, 1, 600_000),
    auditStrict: bool(
      env,
      'LARDER_AUDIT_STRICT',
      (env.NODE_ENV ?? process.env.NODE_ENV) === 'test',
    ),
    auditRetentionDays: optionalInt(env, 'LARDER_AUDIT_RETENTION_DAYS', 1, 36_500),
    auditIpRetentionDays: optionalInt(env, 'LARDER_AUDIT_IP_RETENTION_DAYS', 1, 36_500),
    smtpUrl: url(env, 'LARDER_SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom: str(env, 'LARDER_MAIL_FROM', 'Larder <larder@localhost>'),
    session: {
      idleMinutes: int(env, 'LARDER_SESSION_IDLE_MINUTES', 120, 1, 60 * 24 * 30),
      maxHours: int(env, 'LARDER_SESSION_MAX_HOURS', 12, 1, 24 * 90),
    },
    loginLimits: {
      perAccount: int(env, 'LARDER_LOGIN_FAILURES_PER_ACCOUNT', 10, 1, 10_000),
      perIp: int(env, 'LARDER_LOGIN_FAILURES_PER_IP', 50, 1, 100_000),
      windowMinutes: int(env, 'LARDER_LOGIN_FAILURE_WINDOW_MINUTES', 15, 1, 24 * 60),
    },
    env,
  };
}
