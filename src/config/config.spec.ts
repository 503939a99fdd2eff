import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config.js';

const dataDir = () => mkdtempSync(join(tmpdir(), 'larder-config-'));

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const dir = dataDir();
    const config = loadConfig({ LARDER_DATA_DIR: dir });
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dataDir: dir,
      databaseUrl: undefined,
      storage: 'fs',
      baseUrl: 'http://127.0.0.1:8080',
      readAccess: 'public',
      registration: 'closed',
      plugins: ['audit'],
      pluginsStrict: true,
      maxUploadMb: 100,
      auditRetentionDays: undefined,
      auditIpRetentionDays: undefined,
    });
  });

  it('reads the audit retentions in days', () => {
    const config = loadConfig({
      LARDER_DATA_DIR: dataDir(),
      LARDER_AUDIT_RETENTION_DAYS: '365',
      LARDER_AUDIT_IP_RETENTION_DAYS: '30',
    });
    expect(config).toMatchObject({ auditRetentionDays: 365, auditIpRetentionDays: 30 });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT: must be a whole number, got "abc"'],
    [{ PORT: '70000' }, 'PORT: must be between 0 and 65535, got 70000'],
    [
      { DATABASE_URL: 'mysql://x@y/z' },
      'DATABASE_URL: must start with postgres:// or postgresql://',
    ],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL: is not a valid URL'],
    [{ LARDER_STORAGE: 'ftp' }, 'LARDER_STORAGE: must be one of fs, s3, got "ftp"'],
    [{ LARDER_STORAGE: 's3' }, 'LARDER_S3_BUCKET: is required when LARDER_STORAGE=s3'],
    [
      { LARDER_READ_ACCESS: 'private' },
      'LARDER_READ_ACCESS: must be one of public, authenticated, got "private"',
    ],
    [
      { LARDER_PLUGINS_STRICT: 'maybe' },
      'LARDER_PLUGINS_STRICT: must be true or false, got "maybe"',
    ],
    [
      { LARDER_TRUSTED_PROXIES: '10.0.0.0/33' },
      'LARDER_TRUSTED_PROXIES: "10.0.0.0/33" is not an IP address or CIDR',
    ],
    [{ LARDER_SECRET: 'short' }, 'LARDER_SECRET: must be at least 32 characters'],
    [
      { LARDER_AUDIT_RETENTION_DAYS: '0' },
      'LARDER_AUDIT_RETENTION_DAYS: must be between 1 and 36500, got 0',
    ],
    [
      { LARDER_AUDIT_IP_RETENTION_DAYS: '7d' },
      'LARDER_AUDIT_IP_RETENTION_DAYS: must be a whole number, got "7d"',
    ],
  ])('refuses %j with one line naming the variable', (env, message) => {
    let caught: unknown;
    try {
      loadConfig({ LARDER_DATA_DIR: dataDir(), ...env });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toBe(message);
  });

  it('generates the secret into the data dir once, readable only by its owner, and reuses it', () => {
    const dir = dataDir();
    const first = loadConfig({ LARDER_DATA_DIR: dir }).secret;
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(readFileSync(join(dir, 'secret'), 'utf8').trim()).toBe(first);
    expect(statSync(join(dir, 'secret')).mode & 0o077).toBe(0);
    expect(loadConfig({ LARDER_DATA_DIR: dir }).secret).toBe(first);
  });

  it('prefers LARDER_SECRET over the stored one', () => {
    const secret = 'x'.repeat(40);
    expect(loadConfig({ LARDER_DATA_DIR: dataDir(), LARDER_SECRET: secret }).secret).toBe(secret);
  });

  it('trims a trailing slash from the base URL and brackets IPv6 hosts', () => {
    expect(
      loadConfig({ LARDER_DATA_DIR: dataDir(), LARDER_BASE_URL: 'https://pkg.example.org/' })
        .baseUrl,
    ).toBe('https://pkg.example.org');
    expect(loadConfig({ LARDER_DATA_DIR: dataDir(), HOST: '::1', PORT: '9000' }).baseUrl).toBe(
      'http://[::1]:9000',
    );
  });

  it('parses trusted proxies into a list that matches addresses and subnets', () => {
    const config = loadConfig({
      LARDER_DATA_DIR: dataDir(),
      LARDER_TRUSTED_PROXIES: '10.0.0.0/8, ::1',
    });
    expect(config.trustedProxyList.check('10.1.2.3', 'ipv4')).toBe(true);
    expect(config.trustedProxyList.check('11.1.2.3', 'ipv4')).toBe(false);
    expect(config.trustedProxyList.check('::1', 'ipv6')).toBe(true);
  });
});
