import { createUser, login, type SignedInAgent } from '../../../test/helpers/factories.js';
import { createPluginTestApp, type TestApp } from '../../../test/helpers/test-app.js';
import { AuditWriter } from '../audit.writer.js';
import { AuditExporter, EXPORT_COLUMNS } from './audit-exporter.js';

/** Parses our own CSV (RFC 4180 quoting) back into records, to check what a spreadsheet sees. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return records;
}

describe('audit export (admin page)', () => {
  let t: TestApp;
  let admin: SignedInAgent;
  let user: SignedInAgent;

  beforeAll(async () => {
    t = await createPluginTestApp('audit');
    admin = await login(t, await createUser(t, { admin: true }));
    user = await login(t, await createUser(t));
    // Events with awkward values: a formula-looking token name, commas, quotes, a line break.
    await t.dataSource.query(
      `INSERT INTO audit_events (occurred_at, tag, actor_name, actor_kind, project_name, ip,
                                 user_agent, additional, plugin)
       VALUES ('2026-01-02T03:04:05Z', 'project:release:add', 'mallory', 'user', 'acme', '198.51.100.9',
               '=cmd|'' /C calc''!A0', '{"version": "1.0, \\"final\\"\\nreally"}', 'core'),
              ('2026-01-03T00:00:00Z', 'project:release:add', 'bob', 'user', 'other', '10.1.2.3',
               'ua', '{"version": "2.0"}', 'core')`,
    );
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const exportsOf = async () =>
    t.dataSource.query(
      `SELECT actor_name, additional FROM audit_events WHERE tag = 'admin:audit:export' ORDER BY id`,
    );

  it('streams the filtered log as CSV with RFC 4180 quoting and defused formulas', async () => {
    const res = await admin.agent
      .get('/admin/audit/export')
      .query({ format: 'csv', project: 'acme' })
      .buffer(true)
      .parse((r, done) => {
        let text = '';
        r.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        r.on('end', () => done(null, text));
      })
      .expect(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="larder-audit-[\d-]+\.csv"$/,
    );
    const [header, ...rows] = parseCsv(res.body as string);
    expect(header).toEqual([...EXPORT_COLUMNS]);
    expect(rows).toHaveLength(1);
    const row = Object.fromEntries(header.map((key, i) => [key, rows[0][i]]));
    expect(row).toMatchObject({
      tag: 'project:release:add',
      occurred_at: '2026-01-02T03:04:05.000Z',
      actor_name: 'mallory',
      project_name: 'acme',
      ip: '198.51.100.9',
      user_agent: "'=cmd|' /C calc'!A0",
    });
    expect(JSON.parse(row.additional)).toEqual({ version: '1.0, "final"\nreally' });
    expect(row.description).toContain('1.0');
  });

  it('streams JSON Lines, oldest first, and records each export with its filters and rows', async () => {
    const before = (await exportsOf()).length;
    const res = await admin.agent
      .get('/admin/audit/export')
      .query({ format: 'jsonl', tag: 'project:release:add' })
      .expect(200);
    expect(res.headers['content-type']).toBe('application/jsonl; charset=utf-8');
    const lines = res.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => l.actor_name)).toEqual(['mallory', 'bob']);
    expect(Object.keys(lines[0])).toEqual([...EXPORT_COLUMNS]);
    expect(lines[1].additional).toEqual({ version: '2.0' });
    await t.app.get(AuditWriter).idle();
    const recorded = await exportsOf();
    expect(recorded).toHaveLength(before + 1);
    expect(recorded.at(-1)).toEqual({
      actor_name: admin.user.username,
      additional: { format: 'jsonl', filters: { tag: 'project:release:add' }, rows: 2 },
    });
  });

  it('offers both downloads on the Audit log page, carrying the current filters', async () => {
    const page = await admin.agent.get('/admin/audit/').query({ actor: 'bob', ip: '10.0.0.0/8' });
    expect(page.status).toBe(200);
    expect(page.text).toContain(
      // (Handlebars escapes `=` as &#x3D;: the browser reads it back as `=`.)
      'href="/admin/audit/export?format&#x3D;csv&amp;actor&#x3D;bob&amp;ip&#x3D;10.0.0.0%2F8"',
    );
    expect(page.text).toContain('Export JSON Lines');
  });

  it('refuses non-admins, anonymous visitors and bad filters with a precise 4xx', async () => {
    await user.agent.get('/admin/audit/export?format=csv').expect(403);
    const anonymous = await t.http().get('/admin/audit/export?format=csv');
    expect([401, 303]).toContain(anonymous.status);
    const format = await admin.agent.get('/admin/audit/export?format=xlsx').expect(400);
    expect(format.text).toContain('format must be csv or jsonl');
    const ip = await admin.agent.get('/admin/audit/export?format=csv&ip=10.0.0.1/40').expect(400);
    expect(ip.text).toContain('is not an IP address or CIDR');
    await admin.agent.get('/admin/audit/export?format=csv&since=yesterday').expect(400);
  });

  it('streams 100,000 events with backpressure: a reader that stops stops the export', async () => {
    // ~1 KB of `additional` per event (≈220 MB of JSON Lines in all).
    await t.dataSource.query(
      `INSERT INTO audit_events (occurred_at, tag, actor_name, actor_kind, additional, plugin)
       SELECT now(), 'account:login:success', 'bulk' || n, 'user',
              jsonb_build_object('two_factor_method', repeat('x', 1000)), 'core'
         FROM generate_series(1, 100000) AS n`,
    );
    const exporter = t.app.get(AuditExporter);
    // Counts the rows the server has turned into text so far.
    const row = exporter.row.bind(exporter);
    let produced = 0;
    exporter.row = (...args) => (produced++, row(...args));
    let lines = 0;
    let bytes = 0;
    let whilePaused = 0;
    // A parser that counts and drops each chunk (the test must not buffer the body either),
    // and stops reading for 3 s after the first chunk, as a slow client would.
    await admin.agent
      .get('/admin/audit/export')
      .query({ format: 'jsonl' })
      .buffer(true)
      .maxResponseSize(Number.MAX_SAFE_INTEGER)
      .parse((response, done) => {
        const res = response as unknown as NodeJS.ReadableStream;
        let paused = false;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          for (const b of chunk) if (b === 10) lines++;
          if (!paused) {
            paused = true;
            res.pause();
            setTimeout(() => {
              whilePaused = produced;
              res.resume();
            }, 3000);
          }
        });
        res.on('end', () => done(null, null));
      })
      .expect(200);
    exporter.row = row;
    expect(lines).toBeGreaterThanOrEqual(100_000);
    expect(bytes).toBeGreaterThan(200_000_000);
    // Socket buffers and one waiting batch hold a few thousand rows; buffering would be all.
    process.stderr.write(`rows produced while the reader paused: ${whilePaused}\n`);
    expect(whilePaused).toBeLessThan(20_000);
  }, 600_000);
});
