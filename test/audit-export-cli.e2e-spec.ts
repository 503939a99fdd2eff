import { PGlite } from '@electric-sql/pglite';
import { EMBEDDED_EXTENSIONS } from '../src/database/embedded-postgres.js';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `larder audit export`, run as an operator would (the real CLI on the embedded database of a
 * data dir). The database is seeded by opening the data dir with PGlite while no CLI runs.
 */
describe('larder audit export', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'larder-audit-cli-'));
  const { DATABASE_URL: _ignored, ...inherited } = process.env; // always the data dir's embedded database
  const env = { ...inherited, NODE_OPTIONS: '', LARDER_DATA_DIR: dataDir, LARDER_PLUGINS: 'audit' };
  const larder = (args: string[]) =>
    spawnSync(process.execPath, ['bin/larder.mjs', ...args], {
      env,
      encoding: 'utf8',
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
    });
  async function sql(text: string): Promise<Array<Record<string, unknown>>> {
    const db = await PGlite.create({
      dataDir: join(dataDir, 'pg'),
      extensions: EMBEDDED_EXTENSIONS,
    });
    try {
      return (await db.query<Record<string, unknown>>(text)).rows;
    } finally {
      await db.close();
    }
  }

  beforeAll(async () => {
    expect(larder(['migrate']).status).toBe(0);
    await sql(
      `INSERT INTO audit_events (occurred_at, tag, actor_name, actor_kind, project_name, ip, additional, plugin)
       VALUES ('2026-03-01T10:00:00Z', 'project:release:add', '@mallory', 'user', 'acme', '10.0.0.5',
               '{"version": "1.0"}', 'core'),
              ('2026-03-02T10:00:00Z', 'project:release:add', 'bob', 'user', 'other', '192.0.2.1',
               '{"version": "2.0"}', 'core')`,
    );
  }, 300_000);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('writes the filtered log to stdout alone, and records the export', async () => {
    const jsonl = larder(['audit', 'export', '--format', 'jsonl', '--ip', '10.0.0.0/8']);
    expect(jsonl.status).toBe(0);
    const rows = jsonl.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor_name: '@mallory', project_name: 'acme', ip: '10.0.0.5' });
    expect(jsonl.stderr).toContain('Exported 1 events.');

    const out = join(dataDir, 'export.csv');
    const csv = larder([
      'audit',
      'export',
      '--format',
      'csv',
      '--since',
      '2026-03-01',
      '--out',
      out,
    ]);
    expect(csv.status).toBe(0);
    expect(csv.stdout).toBe('');
    const lines = readFileSync(out, 'utf8').split('\r\n');
    expect(lines[0]).toBe(
      'id,tag,occurred_at,actor_name,actor_kind,user,project_name,ip,user_agent,request_id,additional,description',
    );
    expect(lines[1]).toContain(",'@mallory,"); // defused for spreadsheets
    expect(statSync(out).mode & 0o777).toBe(0o600);

    const recorded = await sql(
      `SELECT actor_name, actor_kind, additional FROM audit_events
        WHERE tag = 'admin:audit:export' ORDER BY audit_events.id`,
    );
    expect(recorded).toEqual([
      {
        actor_name: 'cli:audit-export',
        actor_kind: 'system',
        additional: { format: 'jsonl', filters: { ip: '10.0.0.0/8' }, rows: 1 },
      },
      expect.objectContaining({
        additional: { format: 'csv', filters: { since: '2026-03-01' }, rows: 3 },
      }),
    ]);
  }, 600_000);

  it('refuses a bad format or filter with one line and no output', () => {
    const format = larder(['audit', 'export', '--format', 'xml']);
    expect(format.status).not.toBe(0);
    expect(format.stderr).toContain("option '--format <format>' argument 'xml' is invalid");
    const ip = larder(['audit', 'export', '--format', 'csv', '--ip', 'nope']);
    expect(ip.status).toBe(1);
    expect(ip.stdout).toBe('');
    expect(ip.stderr.trimEnd().split('\n').pop()).toBe(
      'larder: "nope" is not an IP address or CIDR',
    );
  }, 600_000);

  it('streams 100,000 events (≈220 MB) within a 96 MB heap', async () => {
    await sql(
      `INSERT INTO audit_events (occurred_at, tag, actor_name, actor_kind, additional, plugin)
       SELECT now(), 'account:login:success', 'bulk' || n, 'user',
              jsonb_build_object('two_factor_method', repeat('x', 1000)), 'core'
         FROM generate_series(1, 100000) AS n`,
    );
    // dist/ up to date first: a rebuild under the small heap below would fail for its own reasons.
    expect(larder(['--version']).status).toBe(0);
    // A heap far smaller than the export: buffering it would end in "heap out of memory".
    const child = spawn(
      process.execPath,
      ['bin/larder.mjs', 'audit', 'export', '--format', 'jsonl'],
      {
        env: { ...env, NODE_OPTIONS: '--max-old-space-size=96' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let bytes = 0;
    let lines = 0;
    let stderr = '';
    let peakKb = 0;
    const sampler = setInterval(() => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
      } catch {
        // exited
      }
    }, 100);
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      for (const b of chunk) if (b === 10) lines++;
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearInterval(sampler);
    expect(stderr).not.toContain('heap out of memory');
    expect(code).toBe(0);
    expect(lines).toBeGreaterThanOrEqual(100_000);
    expect(bytes).toBeGreaterThan(200_000_000);
    process.stderr.write(
      `larder audit export: ${lines} events, ${(bytes / 1e6).toFixed(0)} MB, peak RSS ${(peakKb / 1024).toFixed(0)} MB\n`,
    );
  }, 900_000);
});
