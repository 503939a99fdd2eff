import { jest } from '@jest/globals';
import { createHmac } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { CONFIG, LOGGER, PluginContext } from '../../../src/plugin-api/index.js';
import { createUser, login, type SignedInAgent } from '../../../test/helpers/factories.js';
import {
  createPluginTestApp,
  pendingSchemaChanges,
  type TestApp,
} from '../../../test/helpers/test-app.js';
import type { AuditOptions } from '../audit.options.js';
import { AuditSearch } from '../audit.search.js';
import { AuditWriter } from '../audit.writer.js';
import { AuditExporter } from '../export/audit-exporter.js';
import { AuditStreamWorker } from './stream.worker.js';

const SECRET = 'receiver-secret-0123456789';

interface Delivery {
  path: string;
  id: string;
  tag: string;
  signatureValid: boolean;
}

/** A webhook receiver that can be taken down and brought back on the same port. */
class Receiver {
  deliveries: Delivery[] = [];
  private server?: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const expected = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
        const parsed = JSON.parse(body) as { id: number; tag: string };
        this.deliveries.push({
          path: req.url ?? '',
          id: String(req.headers['x-larder-event-id']),
          tag: parsed.tag,
          signatureValid:
            req.headers['x-larder-signature'] === expected &&
            String(parsed.id) === req.headers['x-larder-event-id'],
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server?.close(() => resolve());
      this.server?.closeAllConnections();
    });
  }
}

async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('audit streaming', () => {
  let t: TestApp;
  let admin: SignedInAgent;
  let user: SignedInAgent;
  const receiver = new Receiver();
  const dir = mkdtempSync(join(tmpdir(), 'larder-streams-'));
  const outside = mkdtempSync(join(tmpdir(), 'larder-streams-outside-'));

  beforeAll(async () => {
    t = await createPluginTestApp('audit', {
      // The receiver listens on 127.0.0.1: allowed here only.
      options: { streamAllowPrivate: 'true', streamDir: dir },
      env: {
        LARDER_PLUGIN_AUDIT_STREAM_POLL_MS: '100',
        LARDER_PLUGIN_AUDIT_STREAM_RETRY_MS: '100',
        LARDER_PLUGIN_AUDIT_STREAM_RETRY_MAX_MS: '400',
        LARDER_PLUGIN_AUDIT_STREAM_TIMEOUT_MS: '2000',
      },
    });
    admin = await login(t, await createUser(t, { admin: true }));
    user = await login(t, await createUser(t));
    await receiver.start();
  }, 120_000);
  afterAll(async () => {
    await receiver.stop();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  /** An audited event, as any action records one. */
  const record = (n: number) =>
    t.asActor({ kind: 'system', name: 'test:streams' }, () =>
      t.app.get(AuditWriter).record({
        tag: 'admin:audit:export',
        plugin: 'audit',
        additional: { format: 'csv', filters: {}, rows: n },
      }),
    );
  const ids = async (from: number) =>
    (
      await t.dataSource.query(
        `SELECT id::text AS id FROM audit_events WHERE id > $1 AND tag = 'admin:audit:export'
          ORDER BY audit_events.id`,
        [from],
      )
    ).map((r: { id: string }) => r.id);
  const maxId = async () =>
    Number((await t.dataSource.query('SELECT coalesce(max(id), 0) AS n FROM audit_events'))[0].n);
  const pending = async () =>
    Number((await t.dataSource.query('SELECT count(*)::int AS n FROM audit_outbox'))[0].n);
  const destinations = () =>
    t.dataSource.query(`SELECT * FROM audit_stream_destinations ORDER BY name`);
  const destination = async (name: string) =>
    (await destinations()).find((d: { name: string }) => d.name === name);
  /** A worker as another app node would run it, with these options. */
  const workerWith = (options: Partial<AuditOptions> = {}) => {
    const context = t.app.get(PluginContext) as PluginContext<AuditOptions>;
    return new AuditStreamWorker(
      t.app.get(DataSource),
      t.app.get(AuditSearch),
      t.app.get(AuditExporter),
      { options: { ...context.options, ...options } } as PluginContext<AuditOptions>,
      t.app.get(CONFIG),
      t.app.get(LOGGER),
    );
  };

  it('has its tables as its entities declare them', async () => {
    expect(await pendingSchemaChanges(t.dataSource)).toEqual([]);
  });

  it('runs no streaming round while there is nowhere to stream', async () => {
    // The worker polls every 100 ms here; with no destination a poll only looks for one.
    const worker = t.app.get(AuditStreamWorker);
    const drain = jest.spyOn(worker, 'drain');
    try {
      await record(1);
      await new Promise((r) => setTimeout(r, 800));
      expect(drain).not.toHaveBeenCalled();
    } finally {
      drain.mockRestore();
    }
  });

  it('lets only admins add destinations, seals the secret and audits the change', async () => {
    await user.agent
      .post('/admin/audit/streams/')
      .type('form')
      .send({ csrf_token: user.csrf, name: 'x', kind: 'file', target: '/tmp/x' })
      .expect(403);
    await user.agent.get('/admin/audit/streams/').expect(404);
    const bad = await admin.agent.post('/admin/audit/streams/').type('form').send({
      csrf_token: admin.csrf,
      name: 'siem',
      kind: 'webhook',
      target: 'ftp://x',
      secret: SECRET,
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('target must be an http:// or https:// URL for a webhook');
    await admin.agent
      .post('/admin/audit/streams/')
      .type('form')
      .send({
        name: 'siem',
        kind: 'webhook',
        target: `http://127.0.0.1:${receiver.port}/hook`,
        secret: SECRET,
      })
      .expect(403); // no CSRF token
    await admin.agent
      .post('/admin/audit/streams/')
      .type('form')
      .send({
        csrf_token: admin.csrf,
        name: 'siem',
        kind: 'webhook',
        target: `http://127.0.0.1:${receiver.port}/hook?key=abc`,
        tags: 'admin:audit:export',
        secret: SECRET,
      })
      .expect(303);
    const [row] = await destinations();
    expect(row.secret_sealed).not.toContain(SECRET);
    const page = await admin.agent.get('/admin/audit/streams/').expect(200);
    expect(page.text).toContain('siem');
    expect(page.text).not.toContain(SECRET);
    const [added] = await t.dataSource.query(
      `SELECT actor_name, additional FROM audit_events WHERE tag = 'admin:audit:stream:add'`,
    );
    expect(added.actor_name).toBe(admin.user.username);
    // The URL is recorded without its query (it may carry a key).
    expect(added.additional).toEqual({
      name: 'siem',
      kind: 'webhook',
      target: `http://127.0.0.1:${receiver.port}/hook`,
      tag_prefixes: ['admin:audit:export'],
    });
  });

  it('delivers every event, signed, after an outage of the receiver', async () => {
    const from = await maxId();
    await receiver.stop();
    for (let n = 0; n < 5; n++) await record(n);
    const queued = await ids(from);
    expect(queued).toHaveLength(5);
    // The worker tries, fails and keeps them with the error in the destination's log.
    await until(
      'a failed attempt is logged',
      async () => (await destinations())[0].last_error !== null,
    );
    expect(await pending()).toBeGreaterThan(0);
    const page = await admin.agent.get('/admin/audit/streams/').expect(200);
    expect(page.text).toMatch(/last error: <span class="stream-error">[^<]*ECONNREFUSED/);
    await receiver.start();
    await until('all are delivered', async () => (await pending()) === 0);
    const got = receiver.deliveries.filter((d) => queued.includes(d.id));
    expect(got.map((d) => d.id)).toEqual(queued);
    expect(got.every((d) => d.signatureValid)).toBe(true);
    // Only the tags the destination asked for.
    expect(receiver.deliveries.every((d) => d.tag === 'admin:audit:export')).toBe(true);
    expect((await destinations())[0].last_success_at).not.toBeNull();
  }, 180_000);

  it('queues only committed events: a rollback leaves neither event nor delivery', async () => {
    const from = await maxId();
    const outboxBefore = await pending();
    await expect(
      t.asActor({ kind: 'system', name: 'test:streams' }, () =>
        t.dataSource.transaction(async (tx) => {
          await t.app.get(AuditWriter).record(
            {
              tag: 'admin:audit:export',
              plugin: 'audit',
              additional: { format: 'csv', filters: {}, rows: 0 },
            },
            tx,
          );
          throw new Error('the change fails');
        }),
      ),
    ).rejects.toThrow('the change fails');
    expect(await ids(from)).toEqual([]);
    await t.app.get(AuditSearch).catchUp(); // which queues what has committed
    expect(await pending()).toBe(outboxBefore);
  });

  it('holds deliveries while paused and catches up on resume, auditing both', async () => {
    const [dest] = await destinations();
    await admin.agent
      .post(`/admin/audit/streams/${dest.id}/pause`)
      .type('form')
      .send({ csrf_token: admin.csrf })
      .expect(303);
    const from = await maxId();
    const before = receiver.deliveries.length;
    await record(100);
    await record(101);
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.deliveries.length).toBe(before);
    expect(await pending()).toBe(2);
    expect((await admin.agent.get('/admin/audit/streams/')).text).toContain('>Resume<');
    await admin.agent
      .post(`/admin/audit/streams/${dest.id}/resume`)
      .type('form')
      .send({ csrf_token: admin.csrf })
      .expect(303);
    await until('the backlog is delivered', async () => (await pending()) === 0);
    expect(receiver.deliveries.slice(before).map((d) => d.id)).toEqual(await ids(from));
    const tags = await t.dataSource.query(
      `SELECT tag FROM audit_events WHERE tag LIKE 'admin:audit:stream:%' ORDER BY audit_events.id`,
    );
    expect(tags.map((r: { tag: string }) => r.tag)).toEqual([
      'admin:audit:stream:add',
      'admin:audit:stream:pause',
      'admin:audit:stream:resume',
    ]);
  }, 120_000);

  it('with two workers racing, delivers each event once per destination', async () => {
    // A second worker, as a second app node would run: both drain the same outbox at once.
    const worker = t.app.get(AuditStreamWorker);
    await worker.onModuleDestroy(); // stop the app's own poller so only the two below race
    const make = () => workerWith();
    const file = join(dir, 'audit.jsonl');
    // An absolute path inside the stream directory is accepted, and stored as the file's name.
    await admin.agent
      .post('/admin/audit/streams/')
      .type('form')
      .send({ csrf_token: admin.csrf, name: 'shipper', kind: 'file', target: file })
      .expect(303);
    expect((await destination('shipper')).target).toBe('audit.jsonl');
    const from = await maxId();
    const before = receiver.deliveries.length;
    for (let n = 0; n < 60; n++) await record(n);
    const [a, b] = [make(), make()];
    await Promise.all([a.drain(), b.drain(), a.drain(), b.drain()]);
    expect(await pending()).toBe(0);
    const expected = await ids(from);
    const hooked = receiver.deliveries.slice(before).map((d) => d.id);
    expect(hooked.sort()).toEqual([...expected].sort());
    expect(new Set(hooked).size).toBe(hooked.length);
    const lines = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    // The file takes every event (no filter), the webhook only its tag.
    const fileIds = lines.map((l) => String(l.id)).filter((id) => expected.includes(id));
    expect(fileIds.sort()).toEqual([...expected].sort());
    expect(new Set(lines.map((l) => l.id)).size).toBe(lines.length);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  }, 120_000);

  it('checks the address it connects to at delivery time: a name that now resolves to loopback is refused', async () => {
    await t.app.get(AuditStreamWorker).onModuleDestroy(); // only the workers below deliver
    await t.dataSource.query('DELETE FROM audit_outbox');
    await t.dataSource.query('DELETE FROM audit_stream_destinations');
    // Added while private addresses were allowed (or before the guard existed) …
    for (const [name, host] of [
      ['rebound', 'localhost'],
      ['literal', '127.0.0.1'],
    ]) {
      await admin.agent
        .post('/admin/audit/streams/')
        .type('form')
        .send({
          csrf_token: admin.csrf,
          name,
          kind: 'webhook',
          target: `http://${host}:${receiver.port}/${name}`,
          tags: 'admin:audit:export',
          secret: SECRET,
        })
        .expect(303);
    }
    const before = receiver.deliveries.length;
    await record(1);
    // … then delivered by a node where they are not.
    await workerWith({ streamAllowPrivate: false }).drain();
    expect(receiver.deliveries.length).toBe(before);
    expect((await destination('rebound')).last_error).toMatch(
      /^refused: localhost \(resolves to (127\.0\.0\.1|::1)\) is a forbidden address \(loopback\)/,
    );
    expect((await destination('literal')).last_error).toMatch(
      /^refused: 127\.0\.0\.1 is a forbidden address \(loopback\)/,
    );
    expect(await pending()).toBe(2); // kept for a retry, as any failed delivery
    // The same rows deliver where private addresses are allowed: the refusal was the guard's.
    await t.dataSource.query(`UPDATE audit_outbox SET next_attempt_at = now()`);
    await workerWith().drain();
    expect(
      receiver.deliveries
        .slice(before)
        .map((d) => d.path)
        .sort(),
    ).toEqual(['/literal', '/rebound']);
  }, 120_000);

  it('writes files only inside the stream directory, never through a symbolic link', async () => {
    await t.app.get(AuditStreamWorker).onModuleDestroy();
    await t.dataSource.query('DELETE FROM audit_outbox');
    await t.dataSource.query('DELETE FROM audit_stream_destinations');
    const victim = join(outside, 'victim');
    writeFileSync(victim, '');
    // A row from before file destinations were confined: an absolute path outside the directory.
    const legacy = join(outside, 'legacy.jsonl');
    await t.dataSource.query(
      `INSERT INTO audit_stream_destinations (name, kind, target, tag_prefixes)
       VALUES ('legacy', 'file', $1, '{}')`,
      [legacy],
    );
    // A destination whose file is replaced by a symbolic link after it was added.
    await admin.agent
      .post('/admin/audit/streams/')
      .type('form')
      .send({ csrf_token: admin.csrf, name: 'linked', kind: 'file', target: 'linked.jsonl' })
      .expect(303);
    symlinkSync(victim, join(dir, 'linked.jsonl'));
    await record(2);
    await workerWith().drain();
    expect(existsSync(legacy)).toBe(false);
    expect(readFileSync(victim, 'utf8')).toBe('');
    expect((await destination('legacy')).last_error).toContain(
      `refused: ${legacy} is not in the stream directory; a file destination must be a file directly in ${dir}`,
    );
    expect((await destination('linked')).last_error).toBe(
      `refused: ${join(dir, 'linked.jsonl')} is a symbolic link`,
    );
    // Adding a destination over a symbolic link is refused up front.
    const res = await admin.agent
      .post('/admin/audit/streams/')
      .type('form')
      .send({ csrf_token: admin.csrf, name: 'linked2', kind: 'file', target: 'linked.jsonl' })
      .expect(400);
    expect(res.text).toContain(`${join(dir, 'linked.jsonl')} is a symbolic link`);
  }, 120_000);
});

describe('audit streaming destinations, private addresses not allowed (the default)', () => {
  let t: TestApp;
  let admin: SignedInAgent;
  const base = mkdtempSync(join(tmpdir(), 'larder-streams-guard-'));
  const dir = join(base, 'nested', 'streams');

  beforeAll(async () => {
    t = await createPluginTestApp('audit', {
      options: { streamDir: dir },
      env: { LARDER_PLUGIN_AUDIT_STREAM_POLL_MS: '0' }, // nothing is delivered here
    });
    admin = await login(t, await createUser(t, { admin: true }));
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    rmSync(base, { recursive: true, force: true });
  });

  const add = (name: string, kind: string, target: string) =>
    admin.agent
      .post('/admin/audit/streams/')
      .type('form')
      .send({ csrf_token: admin.csrf, name, kind, target, secret: SECRET });
  const names = async () =>
    (await t.dataSource.query('SELECT name FROM audit_stream_destinations ORDER BY name')).map(
      (r: { name: string }) => r.name,
    );

  it.each([
    ['http://127.0.0.1:8080/hook', '127.0.0.1 is a forbidden address (loopback)'],
    [
      'http://169.254.169.254/latest/meta-data/',
      '169.254.169.254 is a forbidden address (link-local)',
    ],
    ['http://[::1]:8080/hook', '::1 is a forbidden address (loopback)'],
    [
      'https://localhost/hook',
      /localhost \(resolves to (127\.0\.0\.1|::1)\) is a forbidden address \(loopback\)/,
    ],
    [
      'http://[::ffff:127.0.0.1]/hook',
      '::ffff:7f00:1 is a forbidden address (IPv4-mapped loopback)',
    ],
    ['http://2130706433/hook', '127.0.0.1 is a forbidden address (loopback)'],
    ['http://10.0.0.8/hook', '10.0.0.8 is a forbidden address (private)'],
    ['http://0.0.0.0:8080/hook', '0.0.0.0 is a forbidden address (unspecified)'],
  ])('refuses a webhook to %s', async (target, why) => {
    const res = await add('hook', 'webhook', target);
    expect(res.status).toBe(400);
    expect(res.text).toContain('target refused: ');
    expect(res.text).toContain('LARDER_PLUGIN_AUDIT_STREAM_ALLOW_PRIVATE');
    expect(res.text).toMatch(why);
    expect(await names()).toEqual([]);
  });

  it('accepts a webhook to a public address', async () => {
    await add('public', 'webhook', 'http://192.0.2.10/hook').expect(303);
    expect(await names()).toEqual(['public']);
  });

  it.each([
    ['../x', 'a file destination is a file name in'],
    ['/etc/x', 'a file destination must be a file directly in'],
    ['.bashrc', 'a file destination is a file name in'],
    [`${dir}/sub/x.jsonl`, 'a file destination must be a file directly in'],
  ])('refuses the file target %s, naming the directory', async (target, message) => {
    const res = await add('file', 'file', target);
    expect(res.status).toBe(400);
    expect(res.text).toContain(`${message} ${dir}`);
    expect(await names()).not.toContain('file');
  });

  it('creates the stream directory 0700 and stores the file name', async () => {
    await add('file', 'file', 'audit.jsonl').expect(303);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const [row] = await t.dataSource.query(
      `SELECT target FROM audit_stream_destinations WHERE name = 'file'`,
    );
    expect(row.target).toBe('audit.jsonl');
    const page = await admin.agent.get('/admin/audit/streams/').expect(200);
    expect(page.text).toContain(`<code>${dir}</code>`);
  });
});
