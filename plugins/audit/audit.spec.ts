import { generate } from 'otplib';
import request from 'supertest';
import { HookBus, runAsSystem } from '../../src/plugin-api/index.js';
import { captureMail, createUser, csrfFrom, type TestUser } from '../../test/helpers/factories.js';
import { createProject, grantRole } from '../../test/helpers/projects.js';
import {
  createPluginTestApp,
  pendingSchemaChanges,
  type TestApp,
} from '../../test/helpers/test-app.js';
import { AuditWriter } from './audit.writer.js';

interface Row {
  id: string;
  tag: string;
  actor_id: string | null;
  actor_name: string | null;
  actor_kind: string;
  actor_token_id: string | null;
  actor_token_name: string | null;
  user_id: string | null;
  project_id: string | null;
  project_name: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  additional: Record<string, unknown>;
  plugin: string;
}

const CLIENT = '203.0.113.7';
const UA = 'audit-test/1.0';

function linkIn(mail: { text: string }): string {
  const match = /http:\/\/127\.0\.0\.1:8080(\/account\/[^\s]+)/.exec(mail.text);
  if (!match) throw new Error(`no link in: ${mail.text}`);
  return match[1];
}

describe('the audit plugin', () => {
  let t: TestApp;
  let outbox: ReturnType<typeof captureMail> = [];
  /** Every secret a test used: none may appear in any stored event. */
  const secrets: string[] = [];

  beforeAll(async () => {
    t = await createPluginTestApp('audit', {
      env: {
        LARDER_REGISTRATION: 'open',
        // supertest connects from loopback: trusted, so X-Forwarded-For sets the client IP.
        LARDER_TRUSTED_PROXIES: '127.0.0.1/32,::1/128,::ffff:127.0.0.1/128',
        LARDER_LOGIN_FAILURES_PER_IP: '10000',
      },
    });
    outbox = captureMail(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const settle = () => t.app.get(AuditWriter).idle();

  async function events(where = 'TRUE', params: unknown[] = []): Promise<Row[]> {
    await settle();
    return t.dataSource.query(
      `SELECT id::text, tag, actor_id, actor_name, actor_kind, actor_token_id, actor_token_name,
              user_id, project_id, project_name, host(ip) AS ip, user_agent, request_id,
              additional, plugin
         FROM audit_events WHERE ${where} ORDER BY audit_events.id`,
      params,
    );
  }
  const since = async () =>
    Number((await t.dataSource.query('SELECT coalesce(max(id), 0) AS n FROM audit_events'))[0].n);
  const newEvents = (after: number) => events('id > $1', [after]);

  /** A browser from CLIENT, signed in as `who`. */
  async function browser(who: TestUser) {
    const agent = request.agent(t.app.getHttpServer());
    const page = await agent.get('/account/login/').set('X-Forwarded-For', CLIENT).expect(200);
    await agent
      .post('/account/login/')
      .set('X-Forwarded-For', CLIENT)
      .set('User-Agent', UA)
      .type('form')
      .send({ username: who.username, password: who.password, csrf_token: csrfFrom(page.text) })
      .expect(303);
    const account = await agent.get('/manage/account/').expect(200);
    secrets.push(who.password);
    return { agent, csrf: csrfFrom(account.text) };
  }

  it('has its migration run, leaving nothing to generate for audit_events', async () => {
    const applied: { name: string }[] = await t.dataSource.query('SELECT name FROM migrations');
    expect(applied.map((m) => m.name)).toContain('AuditEvents1795700000000');
    expect(await pendingSchemaChanges(t.dataSource)).toEqual([]);
  });

  it('records a registration as account:create by the anonymous visitor, with IP, user agent and request id', async () => {
    const start = await since();
    const agent = request.agent(t.app.getHttpServer());
    const page = await agent.get('/account/register/').expect(200);
    const password = 'Register-me-9931';
    secrets.push(password);
    const res = await agent
      .post('/account/register/')
      .set('X-Forwarded-For', CLIENT)
      .set('User-Agent', UA)
      .type('form')
      .send({
        username: 'newcomer',
        email: 'newcomer@example.test',
        password,
        password_confirm: password,
        csrf_token: csrfFrom(page.text),
      })
      .expect(303);
    const rows = await newEvents(start);
    expect(rows.map((r) => r.tag)).toEqual(['account:create', 'account:login:success']);
    const [created, signedIn] = rows;
    expect(created).toMatchObject({
      actor_kind: 'anonymous',
      actor_id: null,
      ip: CLIENT,
      user_agent: UA,
      request_id: res.headers['x-request-id'],
      additional: { email: 'newcomer@example.test' },
      plugin: 'core',
    });
    expect(created.user_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(signedIn).toMatchObject({
      actor_kind: 'user',
      actor_id: created.user_id,
      actor_name: 'newcomer',
      user_id: created.user_id,
      additional: { two_factor_method: 'none' },
    });
  });

  it('records failed sign-ins with the reason; an unknown username only in the admin log', async () => {
    const alice = await createUser(t);
    const start = await since();
    for (const [username, password] of [
      [alice.username, 'not-the-password'],
      ['nobody-here', 'whatever-pass'],
    ]) {
      const agent = request.agent(t.app.getHttpServer());
      const page = await agent.get('/account/login/').expect(200);
      await agent
        .post('/account/login/')
        .set('X-Forwarded-For', CLIENT)
        .type('form')
        .send({ username, password, csrf_token: csrfFrom(page.text) })
        .expect(400);
    }
    const rows = await newEvents(start);
    expect(rows.map((r) => [r.tag, r.user_id, r.additional])).toEqual([
      ['account:login:failure', alice.user.id, { reason: 'invalid_password' }],
      [
        'account:login:failure',
        null,
        { reason: 'unknown_user', username_attempted: 'nobody-here' },
      ],
    ]);
    expect(rows.every((r) => r.actor_kind === 'anonymous' && r.ip === CLIENT)).toBe(true);
  });

  it('records sign-in and sign-out of a session', async () => {
    const bob = await createUser(t);
    const start = await since();
    const { agent, csrf } = await browser(bob);
    await agent
      .post('/account/logout/')
      .set('X-Forwarded-For', CLIENT)
      .type('form')
      .send({ csrf_token: csrf })
      .expect(303);
    const rows = await newEvents(start);
    expect(rows.map((r) => [r.tag, r.actor_name, r.user_id, r.ip])).toEqual([
      ['account:login:success', bob.username, bob.user.id, CLIENT],
      ['account:logout', bob.username, bob.user.id, CLIENT],
    ]);
  });

  it('records a password change once, never the hash; a wrong current password as a failed re-authentication', async () => {
    const carol = await createUser(t);
    const { agent, csrf } = await browser(carol);
    const start = await since();
    const next = 'Changed-password-4417';
    secrets.push(next);
    await agent
      .post('/manage/account/password')
      .set('X-Forwarded-For', CLIENT)
      .type('form')
      .send({
        csrf_token: csrf,
        current_password: 'wrong-one-123',
        new_password: next,
        password_confirm: next,
      })
      .expect(400);
    await agent
      .post('/manage/account/password')
      .set('X-Forwarded-For', CLIENT)
      .type('form')
      .send({
        csrf_token: csrf,
        current_password: carol.password,
        new_password: next,
        password_confirm: next,
      })
      .expect(303);
    const rows = await newEvents(start);
    expect(rows.map((r) => [r.tag, r.actor_name, r.user_id, r.additional])).toEqual([
      [
        'account:reauthenticate:failure',
        carol.username,
        carol.user.id,
        { reason: 'invalid_password' },
      ],
      ['account:password:change', carol.username, carol.user.id, {}],
    ]);
    const [{ password_hash: hash }] = await t.dataSource.query(
      'SELECT password_hash FROM users WHERE id = $1',
      [carol.user.id],
    );
    secrets.push(hash);
  });

  it('records e-mail added, verified, made primary and removed', async () => {
    const dave = await createUser(t);
    const { agent, csrf } = await browser(dave);
    const start = await since();
    await agent
      .post('/manage/account/emails')
      .type('form')
      .send({ csrf_token: csrf, email: 'dave2@example.test' })
      .expect(303);
    const link = linkIn([...outbox].reverse().find((m) => m.to === 'dave2@example.test')!);
    await t.http().get(link).set('X-Forwarded-For', CLIENT).expect(200);
    const [second] = await t.dataSource.query(
      'SELECT id FROM user_emails WHERE normalized_email = $1',
      ['dave2@example.test'],
    );
    await agent
      .post(`/manage/account/emails/${second.id}/primary`)
      .type('form')
      .send({ csrf_token: csrf })
      .expect(303);
    const [first] = await t.dataSource.query(
      'SELECT id FROM user_emails WHERE normalized_email = $1',
      [dave.email],
    );
    await agent
      .post(`/manage/account/emails/${first.id}/remove`)
      .type('form')
      .send({ csrf_token: csrf })
      .expect(303);
    const rows = await newEvents(start);
    expect(rows.map((r) => [r.tag, r.user_id, r.additional])).toEqual([
      ['account:email:add', dave.user.id, { email: 'dave2@example.test' }],
      ['account:email:verified', dave.user.id, { email: 'dave2@example.test', primary: false }],
      [
        'account:email:primary:change',
        dave.user.id,
        { old_primary: dave.email, new_primary: 'dave2@example.test' },
      ],
      ['account:email:remove', dave.user.id, { email: dave.email }],
    ]);
    // The verification link is used without a session: the visitor, on the account's history.
    expect(rows[1].actor_kind).toBe('anonymous');
    expect(rows[0].actor_name).toBe(dave.username);
  });

  it('records API tokens added and removed, and names the token an action was taken with', async () => {
    const erin = await createUser(t);
    const acme = await createProject(t, 'acme-bots', erin.user);
    const { agent, csrf } = await browser(erin);
    const start = await since();
    const created = await agent
      .post('/manage/account/token/')
      .set('X-Forwarded-For', CLIENT)
      .type('form')
      .send({ csrf_token: csrf, name: 'release-bot', scope: 'projects', projects: 'acme-bots' })
      .expect(200);
    const value = /<code class="token-value">([^<]+)<\/code>/.exec(created.text)![1];
    secrets.push(value, value.slice('larder-0123456789abcdef-'.length)); // the secret part
    const [token] = await t.dataSource.query('SELECT id FROM api_tokens WHERE name = $1', [
      'release-bot',
    ]);
    await agent
      .post(`/manage/account/token/${token.id}/revoke`)
      .type('form')
      .send({ csrf_token: csrf })
      .expect(303);
    const rows = await newEvents(start);
    expect(rows.map((r) => [r.tag, r.actor_name, r.user_id, r.additional])).toEqual([
      [
        'account:api_token:added',
        erin.username,
        erin.user.id,
        { description: 'release-bot', scope: ['acme-bots'], expires: null, token_id: token.id },
      ],
      // One per project in scope, on the project's history.
      [
        'project:api_token:added',
        erin.username,
        null,
        { description: 'release-bot', user: erin.username },
      ],
      [
        'account:api_token:removed',
        erin.username,
        erin.user.id,
        { description: 'release-bot', token_id: token.id, reason: 'user' },
      ],
      [
        'project:api_token:removed',
        erin.username,
        null,
        { description: 'release-bot', user: erin.username },
      ],
    ]);
    const project = rows.filter((r) => r.tag.startsWith('project:'));
    expect(project.map((r) => [r.project_id, r.project_name])).toEqual([
      [acme.id, 'acme-bots'],
      [acme.id, 'acme-bots'],
    ]);
  });

  it('records two-factor enrolment, recovery codes generated, regenerated and used, and removal', async () => {
    const fay = await createUser(t);
    const { agent, csrf } = await browser(fay);
    const start = await since();
    const page = await agent.get('/manage/account/two-factor/totp').expect(200);
    const secret = /Enter this key: <code>([A-Z2-7]+)<\/code>/.exec(page.text)![1];
    secrets.push(secret);
    const done = await agent
      .post('/manage/account/two-factor/totp')
      .type('form')
      .send({ csrf_token: csrf, totp_value: await generate({ secret }) })
      .expect(200);
    expect(done.text).toContain('<code>');
    const again = await agent
      .post('/manage/account/recovery-codes')
      .type('form')
      .send({ csrf_token: csrf })
      .expect(200);
    const codes = [...again.text.matchAll(/<li><code>([0-9a-f-]{19})<\/code><\/li>/g)].map(
      (m) => m[1],
    );
    secrets.push(...codes, ...codes.map((c) => c.replace(/-/g, '')));
    // Sign in with a recovery code.
    const other = request.agent(t.app.getHttpServer());
    const form = await other.get('/account/login/').expect(200);
    const step = await other
      .post('/account/login/')
      .set('X-Forwarded-For', CLIENT)
      .type('form')
      .send({ username: fay.username, password: fay.password, csrf_token: csrfFrom(form.text) })
      .expect(200);
    const ticket = /name="ticket" value="([^"]+)"/.exec(step.text)![1];
    await other
      .post('/account/two-factor/')
      .set('X-Forwarded-For', CLIENT)
      .type('form')
      .send({ csrf_token: csrfFrom(step.text), ticket, recovery_code: codes[0] })
      .expect(303);
    await agent
      .post('/manage/account/two-factor/totp/remove')
      .type('form')
      .send({ csrf_token: csrf })
      .expect(303);
    const rows = await newEvents(start);
    expect(rows.map((r) => [r.tag, r.additional])).toEqual([
      ['account:two_factor:method_added', { method: 'totp' }],
      ['account:recovery_codes:generated', {}],
      ['account:recovery_codes:regenerated', {}],
      ['account:recovery_codes:used', {}],
      ['account:login:success', { two_factor_method: 'recovery-code' }],
      ['account:two_factor:method_removed', { method: 'totp' }],
    ]);
    expect(rows.every((r) => r.user_id === fay.user.id)).toBe(true);
  });

  it('records what an administrator does to another account as admin:user:*, by an admin actor', async () => {
    const root = await createUser(t, { admin: true });
    const gus = await createUser(t);
    const { agent, csrf } = await browser(root);
    const start = await since();
    for (const action of ['disable', 'enable', 'grant-admin', 'revoke-admin']) {
      await agent
        .post(`/admin/users/${gus.username}/${action}`)
        .set('X-Forwarded-For', CLIENT)
        .type('form')
        .send(
          action === 'disable'
            ? { csrf_token: csrf, reason: 'left the company' }
            : { csrf_token: csrf },
        )
        .expect(303);
    }
    const rows = await newEvents(start);
    expect(rows.map((r) => [r.tag, r.actor_kind, r.actor_name, r.user_id, r.additional])).toEqual([
      ['admin:user:disable', 'admin', root.username, gus.user.id, { reason: 'left the company' }],
      ['admin:user:enable', 'admin', root.username, gus.user.id, {}],
      ['admin:user:grant_admin', 'admin', root.username, gus.user.id, {}],
      ['admin:user:revoke_admin', 'admin', root.username, gus.user.id, {}],
    ]);
    // The account holder sees the administrator's IP as "Redacted".
    const own = await browser(gus);
    const history = await own.agent.get('/manage/account/history/').expect(200);
    expect(history.text).toContain(
      'Account disabled by an administrator (reason: left the company)',
    );
    expect(history.text).toContain(`by administrator ${root.username}`);
    expect(history.text).toContain('Redacted');
  });

  it('records a CLI-made account as admin:user:create by the system', async () => {
    const start = await since();
    const hal = await createUser(t);
    const rows = await newEvents(start);
    expect(
      rows.map((r) => [r.tag, r.actor_kind, r.actor_name, r.user_id, r.ip, r.additional]),
    ).toEqual([
      [
        'admin:user:create',
        'system',
        'test:create-user',
        hal.user.id,
        null,
        { username: hal.username, admin: false },
      ],
    ]);
  });

  it('leaves no event of an action that rolls back', async () => {
    const ida = await createUser(t);
    const { agent, csrf } = await browser(ida);
    let fail = true;
    t.app.get(HookBus).on(
      'token.created',
      'transaction',
      () => {
        if (fail) throw new Error('a plugin fails inside the transaction');
      },
      { plugin: 'test' },
    );
    const start = await since();
    await agent
      .post('/manage/account/token/')
      .type('form')
      .send({ csrf_token: csrf, name: 'doomed' })
      .expect(500);
    fail = false;
    expect(await newEvents(start)).toEqual([]);
    expect(await t.dataSource.query("SELECT id FROM api_tokens WHERE name = 'doomed'")).toEqual([]);
  });

  it('refuses, in tests, an audited change it cannot attribute: no request context, or no row', async () => {
    const jo = await createUser(t);
    await expect(
      t.dataSource
        .query('SELECT 1')
        .then(() => t.dataSource.manager.save(Object.assign(jo.user, { isAdmin: true }))),
    ).rejects.toThrow('audit: cannot attribute update on users: no request context');
    await expect(
      runAsSystem('test', () =>
        t.dataSource
          .createQueryBuilder()
          .update(t.dataSource.entityMetadatas.find((m) => m.tableName === 'users')!.target)
          .set({ isAdmin: true })
          .where('id = :id', { id: jo.user.id })
          .execute(),
      ),
    ).rejects.toThrow('audit: cannot attribute update on users: no row');
    const [row] = await t.dataSource.query('SELECT is_admin FROM users WHERE id = $1', [
      jo.user.id,
    ]);
    expect(row.is_admin).toBe(false);
  });

  it('keeps every secret the tests used out of every stored event', async () => {
    const all = JSON.stringify(await events());
    expect(secrets.length).toBeGreaterThan(10);
    for (const secret of secrets) expect(all).not.toContain(secret);
  });

  describe('Security history pages', () => {
    let kim: TestUser;
    let kimAgent: Awaited<ReturnType<typeof browser>>;
    beforeAll(async () => {
      kim = await createUser(t);
      kimAgent = await browser(kim);
      // 30 events of kim's: more than a page of 25.
      const kimActor = {
        kind: 'user' as const,
        userId: kim.user.id,
        username: kim.username,
        isAdmin: false,
      };
      t.asActor(kimActor, () => {
        for (let i = 0; i < 15; i++) {
          t.app.get(HookBus).emit('account.logout', {
            user: { id: kim.user.id, username: kim.username },
          });
        }
        for (let i = 0; i < 15; i++) {
          t.app.get(HookBus).emit('account.reauthenticated', {
            user: { id: kim.user.id, username: kim.username },
            outcome: 'failure',
            reason: 'invalid_password',
          });
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await settle();
    });

    it("lists the signed-in user's own events, newest first, 25 a page, with older/newer links", async () => {
      const first = await kimAgent.agent.get('/manage/account/history/').expect(200);
      expect(first.text).toContain('<h1>Security history</h1>');
      expect(first.text).toMatch(/aria-current="page">Security history<\/a>/);
      const count = (html: string) => (html.match(/class="audit-summary"/g) ?? []).length;
      expect(count(first.text)).toBe(25);
      expect(first.text).toContain('Re-authentication failed: wrong password');
      // Plain words only: the raw tag is at most a filter option's value.
      expect(first.text.replace(/<option[^>]*>/g, '')).not.toContain('account:reauthenticate');
      const older = /href="([^"]+)" rel="next">Older events/
        .exec(first.text)![1]
        .replace(/&amp;/g, '&')
        .replace(/&#x3D;/g, '=');
      expect(first.text).not.toContain('rel="prev"');
      const second = await kimAgent.agent.get(older);
      expect([
        older,
        second.status,
        second.status === 200 ? '' : second.text.slice(0, 2000),
      ]).toEqual([older, 200, '']);
      // 30 emitted + the sign-in + the CLI creation = 32: 7 on the second page.
      expect(count(second.text)).toBe(7);
      expect(second.text).toContain('Account ' + kim.username + ' created by an administrator');
      const newer = /href="([^"]+)" rel="prev">Newer events/
        .exec(second.text)![1]
        .replace(/&amp;/g, '&')
        .replace(/&#x3D;/g, '=');
      const back = await kimAgent.agent.get(newer).expect(200);
      expect(count(back.text)).toBe(25);
    });

    it('filters by event type and date range', async () => {
      const logouts = await kimAgent.agent
        .get('/manage/account/history/?tag=account:logout')
        .expect(200);
      expect((logouts.text.match(/class="audit-summary"/g) ?? []).length).toBe(15);
      const future = await kimAgent.agent
        .get('/manage/account/history/?since=2999-01-01')
        .expect(200);
      expect(future.text).toContain('No events');
      const today = new Date().toISOString().slice(0, 10);
      const upToToday = await kimAgent.agent
        .get(`/manage/account/history/?until=${today}&tag=account:logout`)
        .expect(200);
      expect((upToToday.text.match(/class="audit-summary"/g) ?? []).length).toBe(15);
    });

    it("never shows another user's events", async () => {
      const lee = await createUser(t);
      const leeAgent = await browser(lee);
      const page = await leeAgent.agent.get('/manage/account/history/').expect(200);
      expect(page.text).not.toContain(kim.username);
      expect(page.text).not.toMatch(/class="audit-summary">Re-authentication failed/);
      await t.http().get('/manage/account/history/').expect(303);
    });

    it('shows the admin log to admins only, with filters, keyset paging and a chart', async () => {
      const root = await createUser(t, { admin: true });
      const admin = await browser(root);
      await kimAgent.agent.get('/admin/audit/').expect(404);
      const all = await admin.agent.get('/admin/audit/').expect(200);
      expect(all.text).toContain('<h1>Audit log</h1>');
      expect(all.text).toMatch(/<svg[^>]*role="img"[\s\S]*<rect /);
      expect(all.text).not.toMatch(/<script|style=/);
      expect(all.text).toContain('rel="next">Older events');
      const count = (html: string) => (html.match(/class="audit-summary"/g) ?? []).length;
      const byActor = await admin.agent
        .get(`/admin/audit/?actor=${kim.username}&tag=account:logout`)
        .expect(200);
      expect(count(byActor.text)).toBe(15);
      const byUser = await admin.agent.get(`/admin/audit/?user=${kim.user.id}&tag=account:logout`);
      expect(count(byUser.text)).toBe(15);
      const unknown = await admin.agent.get(
        '/admin/audit/?tag=account:login:failure&q=nobody-here',
      );
      expect(unknown.text).toContain('Login failed: unknown username');
      const pair = await admin.agent.get('/admin/audit/?q=username_attempted%3Dnobody-here');
      expect(count(pair.text)).toBe(1);
      const cidr = await admin.agent.get(
        '/admin/audit/?ip=203.0.113.0/24&tag=account:login:failure',
      );
      expect(count(cidr.text)).toBe(2);
      const elsewhere = await admin.agent.get('/admin/audit/?ip=198.51.100.0/24').expect(200);
      expect(elsewhere.text).toContain('No events');
      await admin.agent.get('/admin/audit/?ip=not-an-ip').expect(400);
    });

    it("shows a project's history to its owners only (404 for everyone else)", async () => {
      const owner = await createUser(t);
      const maintainer = await createUser(t);
      const created = await createProject(t, 'acme-widgets', owner.user);
      await grantRole(t, 'acme-widgets', maintainer.user, 'Maintainer');
      const project = { id: created.id, name: created.name };
      const writer = t.app.get(AuditWriter);
      await t.asActor({ kind: 'system', name: 'test' }, () =>
        writer.record({
          plugin: 'core',
          tag: 'project:release:add',
          project,
          additional: { version: '1.0', canonical_version: '1', submitted_by: owner.username },
        }),
      );
      const ownerAgent = await browser(owner);
      const page = await ownerAgent.agent.get('/manage/project/acme-widgets/history/').expect(200);
      expect(page.text).toContain(`Release 1.0 created by ${owner.username}`);
      expect(page.text).not.toContain('Logged in');
      const maintainerAgent = await browser(maintainer);
      await maintainerAgent.agent.get('/manage/project/acme-widgets/history/').expect(404);
      await ownerAgent.agent.get('/manage/project/other/history/').expect(404);
    });
  });
});
