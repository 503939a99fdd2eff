import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
import { AuditWriter } from '../audit.writer.js';
import { AuditExporter } from '../export/audit-exporter.js';
import { AuditStreamWorker } from './stream.worker.js';

const SECRET = 'receiver-secret-0123456789';

interface Delivery {
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

  beforeAll(async () => {
    t = await createPluginTestApp('audit', {
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

  it('has its tables as its entities declare them', async () => {
    expect(await pendingSchemaChanges(t.dataSource)).toEqual([]);
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

  it('queues deliveries in the event transaction: a rollback leaves neither', async () => {
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
    const make = () =>
      new AuditStreamWorker(
        t.app.get(DataSource),
        t.app.get(AuditWriter),
        t.app.get(AuditExporter),
        t.app.get(PluginContext),
        t.app.get(CONFIG),
        t.app.get(LOGGER),
      );
    const file = join(dir, 'audit.jsonl');
    await admin.agent
      .post('/admin/audit/streams/')
      .type('form')
      .send({ csrf_token: admin.csrf, name: 'shipper', kind: 'file', target: file })
      .expect(303);
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
  }, 120_000);
});
