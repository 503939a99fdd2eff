import { generate } from 'otplib';
import request from 'supertest';
import { HookBus } from '../../src/plugin-api/index.js';
import { buildSdist, buildWheel, type Dist } from '../../test/helpers/dists.js';
import {
  captureMail,
  createToken,
  createUser,
  csrfFrom,
  type TestUser,
} from '../../test/helpers/factories.js';
import { createPluginTestApp, type TestApp } from '../../test/helpers/test-app.js';
import { statusMessage, upload } from '../../test/helpers/uploads.js';
import { AuditWriter } from './audit.writer.js';
import { CORE_CATALOGUE } from './catalogue.js';

/**
 * The audit matrix (issue 6): every catalogue action driven through HTTP, each followed by the
 * exact events it must leave — tag, actor, account, project id and name, IP, `additional` —
 * and nothing else. The steps share one app and run in order (a project is created by its
 * first upload, collaborators come and go, it is deleted at the end).
 */

const CLIENT = '203.0.113.9';
const UA = 'audit-matrix/1.0';

interface Stored {
  tag: string;
  actor_name: string | null;
  actor_kind: string;
  actor_token_name: string | null;
  user_id: string | null;
  project_id: string | null;
  project_name: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  additional: Record<string, unknown>;
}

/** One expected event; `ip` defaults to the test client's. */
interface Expected {
  tag: string;
  actor: string | null;
  kind: 'user' | 'token' | 'admin' | 'system' | 'anonymous';
  user?: string | null;
  project?: { id: string | null; name: string } | null;
  additional: Record<string, unknown>;
  ip?: string | null;
  token?: string | null;
}

/** Tags no HTTP action makes: pruning (a job and the CLI), and optional downloads. */
const NOT_HTTP = ['admin:audit:prune', 'file:download'];

describe('audit matrix: every catalogue action, exactly its events', () => {
  let t: TestApp;
  let outbox: ReturnType<typeof captureMail>;
  const secrets: string[] = [];
  const seen = new Set<string>();

  let root: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let mallory: TestUser;
  let aliceToken: { value: string; id: string };
  let malloryToken: { value: string; id: string };
  let project: { id: string; name: string };
  let wheel10: Dist;
  let sdist10: Dist;
  let wheel20: Dist;

  beforeAll(async () => {
    t = await createPluginTestApp('audit', {
      env: {
        // A second plugin whose before-hook vetoes uploads of reserved names.
        LARDER_PLUGINS: 'audit,upload-policy',
        LARDER_PLUGIN_UPLOAD_POLICY_RESERVED_PREFIXES: '{"reserved-":["nobody-at-all"]}',
        LARDER_REGISTRATION: 'open',
        LARDER_TRUSTED_PROXIES: '127.0.0.1/32,::1/128,::ffff:127.0.0.1/128',
        LARDER_LOGIN_FAILURES_PER_IP: '10000',
      },
    });
    outbox = captureMail(t);
    root = await createUser(t, { admin: true });
    alice = await createUser(t);
    bob = await createUser(t);
    mallory = await createUser(t);
    aliceToken = await createToken(t, alice.user, { name: 'alice-ci' });
    malloryToken = await createToken(t, mallory.user, { name: 'mallory-ci' });
    secrets.push(aliceToken.value, malloryToken.value);
    for (const who of [root, alice, bob, mallory]) secrets.push(who.password);
    wheel10 = await buildWheel({ name: 'matrix-pkg', version: '1.0' });
    sdist10 = await buildSdist({ name: 'matrix-pkg', version: '1.0' });
    wheel20 = await buildWheel({ name: 'matrix-pkg', version: '2.0' });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const settle = () => t.app.get(AuditWriter).idle();
  const lastId = async () =>
    Number((await t.dataSource.query('SELECT coalesce(max(id), 0) AS n FROM audit_events'))[0].n);

  async function eventsAfter(id: number): Promise<Stored[]> {
    // After-hook events (sign-ins, refused uploads) are written once the response is sent.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await settle();
    return t.dataSource.query(
      `SELECT tag, actor_name, actor_kind, actor_token_name, user_id, project_id::text,
              project_name, host(ip) AS ip, user_agent, request_id, additional
         FROM audit_events WHERE id > $1 ORDER BY id`,
      [id],
    );
  }

  const key = (e: { tag: string; additional: unknown; user?: unknown }) =>
    `${e.tag} ${JSON.stringify(e.additional)}`;

  /** Runs `act` and asserts it left exactly `expected` (in any order), each once. */
  async function step(act: () => Promise<unknown>, expected: Expected[]): Promise<Stored[]> {
    const start = await lastId();
    await act();
    const rows = await eventsAfter(start);
    const actual = rows
      .map((r) => ({
        tag: r.tag,
        actor: r.actor_name,
        kind: r.actor_kind,
        user: r.user_id,
        project: r.project_name ? { id: r.project_id, name: r.project_name } : null,
        additional: r.additional,
        ip: r.ip,
        token: r.actor_token_name,
      }))
      .sort((a, b) => key(a).localeCompare(key(b)));
    const wanted = expected
      .map((e) => ({
        tag: e.tag,
        actor: e.actor,
        kind: e.kind,
        user: e.user ?? null,
        project: e.project ?? null,
        additional: e.additional,
        ip: e.ip === undefined ? CLIENT : e.ip,
        token: e.token ?? null,
      }))
      .sort((a, b) => key(a).localeCompare(key(b)));
    expect(actual).toEqual(wanted);
    for (const row of rows) {
      seen.add(row.tag);
      if (row.ip === CLIENT) {
        expect(row.user_agent).toBe(UA);
        expect(row.request_id).toEqual(expect.any(String));
      }
    }
    return rows;
  }

  /** A browser at CLIENT signed in as `who` (password only). */
  async function browser(who: TestUser) {
    const agent = request.agent(t.app.getHttpServer());
    const page = await agent.get('/account/login/').expect(200);
    await agent
      .post('/account/login/')
      .set('X-Forwarded-For', CLIENT)
      .set('User-Agent', UA)
      .type('form')
      .send({ username: who.username, password: who.password, csrf_token: csrfFrom(page.text) })
      .expect(303);
    const account = await agent.get('/manage/account/').expect(200);
    const csrf = csrfFrom(account.text);
    const post = (url: string, form: Record<string, string> = {}) =>
      agent
        .post(url)
        .set('X-Forwarded-For', CLIENT)
        .set('User-Agent', UA)
        .type('form')
        .send({ csrf_token: csrf, ...form });
    return { agent, csrf, post };
  }
  type Browser = Awaited<ReturnType<typeof browser>>;

  const send = (req: request.Test) => req.set('X-Forwarded-For', CLIENT).set('User-Agent', UA);
  const signIn = (who: TestUser): Expected => ({
    tag: 'account:login:success',
    actor: who.username,
    kind: 'user',
    user: who.user.id,
    additional: { two_factor_method: 'none' },
  });
  /** Signs in, asserting the sign-in is the one event. */
  async function signedIn(who: TestUser): Promise<Browser> {
    let b: Browser | undefined;
    await step(async () => (b = await browser(who)), [signIn(who)]);
    return b!;
  }
  const linkIn = (to: string) => {
    const mail = [...outbox].reverse().find((m) => m.to === to);
    const match = /http:\/\/127\.0\.0\.1:8080(\/account\/[^\s]+)/.exec(mail?.text ?? '');
    if (!match) throw new Error(`no link mailed to ${to}`);
    return match[1];
  };

  describe('accounts', () => {
    it('account:create and the first sign-in, by registration', async () => {
      const agent = request.agent(t.app.getHttpServer());
      const page = await agent.get('/account/register/').expect(200);
      const password = 'Matrix-register-7741';
      secrets.push(password);
      const [created] = await step(
        () =>
          send(agent.post('/account/register/'))
            .type('form')
            .send({
              username: 'matrix-newbie',
              email: 'newbie@example.test',
              password,
              password_confirm: password,
              csrf_token: csrfFrom(page.text),
            })
            .expect(303),
        [
          {
            tag: 'account:create',
            actor: null,
            kind: 'anonymous',
            user: expect.any(String),
            additional: { email: 'newbie@example.test' },
          },
          {
            tag: 'account:login:success',
            actor: 'matrix-newbie',
            kind: 'user',
            user: expect.any(String),
            additional: { two_factor_method: 'none' },
          },
        ],
      );
      expect(created.user_id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('account:login:failure: on the account, or in the admin log for an unknown username', async () => {
      for (const [username, reason, user] of [
        [alice.username, 'invalid_password', alice.user.id],
        ['matrix-nobody', 'unknown_user', null],
      ] as const) {
        const agent = request.agent(t.app.getHttpServer());
        const page = await agent.get('/account/login/').expect(200);
        await step(
          () =>
            send(agent.post('/account/login/'))
              .type('form')
              .send({ username, password: 'Wrong-pass-1234', csrf_token: csrfFrom(page.text) })
              .expect(400),
          [
            {
              tag: 'account:login:failure',
              actor: null,
              kind: 'anonymous',
              user,
              additional: user ? { reason } : { reason, username_attempted: username },
            },
          ],
        );
      }
    });

    it('account:logout', async () => {
      const b = await signedIn(alice);
      await step(
        () => b.post('/account/logout/').expect(303),
        [
          {
            tag: 'account:logout',
            actor: alice.username,
            kind: 'user',
            user: alice.user.id,
            additional: {},
          },
        ],
      );
    });

    it('account:reauthenticate:failure and account:password:change', async () => {
      const b = await signedIn(bob);
      const next = 'Matrix-changed-5512';
      secrets.push(next);
      const form = { new_password: next, password_confirm: next };
      const me = { actor: bob.username, kind: 'user' as const, user: bob.user.id };
      await step(
        () =>
          b
            .post('/manage/account/password', { ...form, current_password: 'not-it-123' })
            .expect(400),
        [
          {
            tag: 'account:reauthenticate:failure',
            ...me,
            additional: { reason: 'invalid_password' },
          },
        ],
      );
      await step(
        () =>
          b
            .post('/manage/account/password', { ...form, current_password: bob.password })
            .expect(303),
        [{ tag: 'account:password:change', ...me, additional: {} }],
      );
      bob.password = next;
    });

    it('account:password:reset:request and account:password:reset, signed out', async () => {
      const anon = { actor: null, kind: 'anonymous' as const, user: bob.user.id, additional: {} };
      const visitor = request.agent(t.app.getHttpServer());
      const form = await visitor.get('/account/reset-password').expect(200);
      await step(
        () =>
          send(visitor.post('/account/reset-password'))
            .type('form')
            .send({ username_or_email: bob.username, csrf_token: csrfFrom(form.text) })
            .expect(200),
        [{ tag: 'account:password:reset:request', ...anon }],
      );
      const link = linkIn(bob.email);
      const token = new URL(link, 'http://x').searchParams.get('token')!;
      secrets.push(token);
      const next = 'Matrix-reset-8823';
      secrets.push(next);
      const confirm = await visitor.get(link).expect(200);
      await step(
        () =>
          send(visitor.post('/account/reset-password/confirm'))
            .type('form')
            .send({
              token,
              new_password: next,
              password_confirm: next,
              csrf_token: csrfFrom(confirm.text),
            })
            .expect(200),
        [{ tag: 'account:password:reset', ...anon }],
      );
      bob.password = next;
    });

    it('account:email:add, :verified, :primary:change and :remove', async () => {
      const b = await signedIn(alice);
      const me = { actor: alice.username, kind: 'user' as const, user: alice.user.id };
      const second = 'alice-second@example.test';
      await step(
        () => b.post('/manage/account/emails', { email: second }).expect(303),
        [{ tag: 'account:email:add', ...me, additional: { email: second } }],
      );
      // The link is followed without a session: the visitor acts, on alice's account.
      await step(
        () => send(t.http().get(linkIn(second))).expect(200),
        [
          {
            tag: 'account:email:verified',
            actor: null,
            kind: 'anonymous',
            user: alice.user.id,
            additional: { email: second, primary: false },
          },
        ],
      );
      const idOf = async (email: string) =>
        (
          await t.dataSource.query('SELECT id FROM user_emails WHERE normalized_email = $1', [
            email,
          ])
        )[0].id as string;
      await step(
        async () => b.post(`/manage/account/emails/${await idOf(second)}/primary`).expect(303),
        [
          {
            tag: 'account:email:primary:change',
            ...me,
            additional: { old_primary: alice.email, new_primary: second },
          },
        ],
      );
      await step(
        async () => b.post(`/manage/account/emails/${await idOf(alice.email)}/remove`).expect(303),
        [{ tag: 'account:email:remove', ...me, additional: { email: alice.email } }],
      );
      alice.email = second;
    });

    it('two-factor added and removed; recovery codes generated, regenerated and used', async () => {
      const who = await createUser(t);
      secrets.push(who.password);
      const b = await signedIn(who);
      const me = { actor: who.username, kind: 'user' as const, user: who.user.id };
      const page = await b.agent.get('/manage/account/two-factor/totp').expect(200);
      const secret = /Enter this key: <code>([A-Z2-7]+)<\/code>/.exec(page.text)![1];
      secrets.push(secret);
      await step(async () => {
        const done = await b
          .post('/manage/account/two-factor/totp', { totp_value: await generate({ secret }) })
          .expect(200);
        const first = [...done.text.matchAll(/<li><code>([0-9a-f-]{19})<\/code><\/li>/g)];
        expect(first.length).toBeGreaterThan(0);
        secrets.push(...first.map((m) => m[1]));
      }, [
        { tag: 'account:two_factor:method_added', ...me, additional: { method: 'totp' } },
        { tag: 'account:recovery_codes:generated', ...me, additional: {} },
      ]);
      let codes: string[] = [];
      await step(async () => {
        const again = await b.post('/manage/account/recovery-codes').expect(200);
        codes = [...again.text.matchAll(/<li><code>([0-9a-f-]{19})<\/code><\/li>/g)].map(
          (m) => m[1],
        );
      }, [{ tag: 'account:recovery_codes:regenerated', ...me, additional: {} }]);
      secrets.push(...codes, ...codes.map((c) => c.replace(/-/g, '')));
      const other = request.agent(t.app.getHttpServer());
      const form = await other.get('/account/login/').expect(200);
      const stepOne = await send(other.post('/account/login/'))
        .type('form')
        .send({ username: who.username, password: who.password, csrf_token: csrfFrom(form.text) })
        .expect(200);
      const ticket = /name="ticket" value="([^"]+)"/.exec(stepOne.text)![1];
      secrets.push(ticket);
      await step(
        () =>
          send(other.post('/account/two-factor/'))
            .type('form')
            .send({ csrf_token: csrfFrom(stepOne.text), ticket, recovery_code: codes[0] })
            .expect(303),
        [
          {
            tag: 'account:recovery_codes:used',
            actor: null,
            kind: 'anonymous',
            user: who.user.id,
            additional: {},
          },
          {
            tag: 'account:login:success',
            ...me,
            additional: { two_factor_method: 'recovery-code' },
          },
        ],
      );
      await step(
        () => b.post('/manage/account/two-factor/totp/remove').expect(303),
        [{ tag: 'account:two_factor:method_removed', ...me, additional: { method: 'totp' } }],
      );
    });

    it('account:api_token:added and :removed for a token of the whole account', async () => {
      const b = await signedIn(alice);
      const me = { actor: alice.username, kind: 'user' as const, user: alice.user.id };
      let value = '';
      await step(async () => {
        const res = await b
          .post('/manage/account/token/', { name: 'laptop', scope: 'account' })
          .expect(200);
        value = /<code class="token-value">([^<]+)<\/code>/.exec(res.text)![1];
      }, [
        {
          tag: 'account:api_token:added',
          ...me,
          additional: {
            description: 'laptop',
            scope: 'user',
            expires: null,
            token_id: expect.any(String),
          },
        },
      ]);
      secrets.push(value);
      const [token] = await t.dataSource.query("SELECT id FROM api_tokens WHERE name = 'laptop'");
      await step(
        () => b.post(`/manage/account/token/${token.id}/revoke`).expect(303),
        [
          {
            tag: 'account:api_token:removed',
            ...me,
            additional: { description: 'laptop', token_id: token.id, reason: 'user' },
          },
        ],
      );
    });

    it("admin:user:* by an administrator, on the other account's history", async () => {
      const admin = await signedIn(root);
      const by = { actor: root.username, kind: 'admin' as const };
      const [created] = await step(
        () =>
          admin
            .post('/admin/users/', {
              username: 'matrix-made',
              email: 'made@example.test',
              admin: 'on',
            })
            .expect(303),
        [
          {
            tag: 'admin:user:create',
            ...by,
            user: expect.any(String),
            additional: { username: 'matrix-made', admin: true },
          },
          // Made without a password: the account's holder is sent a link to choose one.
          {
            tag: 'account:password:reset:request',
            ...by,
            user: expect.any(String),
            additional: {},
          },
        ],
      );
      const user = created.user_id;
      for (const [action, tag, additional] of [
        ['disable', 'admin:user:disable', { reason: 'left' }],
        ['enable', 'admin:user:enable', {}],
        ['revoke-admin', 'admin:user:revoke_admin', {}],
        ['grant-admin', 'admin:user:grant_admin', {}],
      ] as const) {
        await step(
          () =>
            admin
              .post(
                `/admin/users/matrix-made/${action}`,
                action === 'disable' ? { reason: 'left' } : {},
              )
              .expect(303),
          [{ tag, ...by, user, additional }],
        );
      }
    });
  });

  describe('the audit log itself', () => {
    it('admin:audit:stream:add, :pause, :resume and :remove, on the admin log', async () => {
      const admin = await signedIn(root);
      // Nobody's account is concerned, so the administrator acts as a plain user.
      const by = { actor: root.username, kind: 'user' as const, user: null };
      // A file name: file destinations live in the stream directory (docs/audit.md).
      const target = 'matrix-stream.jsonl';
      await step(
        () =>
          admin
            .post('/admin/audit/streams/', {
              name: 'matrix-file',
              kind: 'file',
              target,
              tags: 'project:',
            })
            .expect(303),
        [
          {
            tag: 'admin:audit:stream:add',
            ...by,
            additional: { name: 'matrix-file', kind: 'file', target, tag_prefixes: ['project:'] },
          },
        ],
      );
      const [destination] = await t.dataSource.query(
        `SELECT id FROM audit_stream_destinations WHERE name = 'matrix-file'`,
      );
      for (const action of ['pause', 'resume', 'remove'] as const) {
        await step(
          () => admin.post(`/admin/audit/streams/${destination.id}/${action}`, {}).expect(303),
          [{ tag: `admin:audit:stream:${action}`, ...by, additional: { name: 'matrix-file' } }],
        );
      }
    });

    it('admin:audit:export, for a download from the admin page', async () => {
      const admin = await signedIn(root);
      await step(
        () =>
          admin.agent
            .get('/admin/audit/export?format=csv&tag=account:logout')
            .set('X-Forwarded-For', CLIENT)
            .set('User-Agent', UA)
            .expect(200),
        [
          {
            tag: 'admin:audit:export',
            actor: root.username,
            kind: 'user',
            user: null,
            additional: { format: 'csv', filters: { tag: 'account:logout' }, rows: 1 },
          },
        ],
      );
    });
  });

  describe('projects, releases, files and collaborators', () => {
    let owner: Browser;
    const p = () => project;
    /** A collaborator kept as Maintainer: the project history is not theirs to see. */
    let erin: TestUser;

    beforeAll(async () => {
      owner = await browser(alice);
    });

    it('a first upload: project:create, the owner role, project:release:add and file:add, by token', async () => {
      const tokenActor = { actor: alice.username, kind: 'token' as const, token: 'alice-ci' };
      const rows = await step(
        () =>
          upload(t, wheel10, 'matrix-pkg', '1.0', { token: aliceToken.value })
            .set('X-Forwarded-For', CLIENT)
            .set('User-Agent', UA)
            .expect(200),
        [
          {
            tag: 'project:create',
            ...tokenActor,
            project: { id: expect.any(String), name: 'matrix-pkg' },
            additional: { created_by: alice.username },
          },
          {
            tag: 'project:role:add',
            ...tokenActor,
            project: { id: expect.any(String), name: 'matrix-pkg' },
            additional: {
              target_user: alice.username,
              role_name: 'Owner',
              submitted_by: alice.username,
            },
          },
          {
            tag: 'account:role:add',
            ...tokenActor,
            user: alice.user.id,
            project: { id: expect.any(String), name: 'matrix-pkg' },
            additional: {
              project_name: 'matrix-pkg',
              role_name: 'Owner',
              submitted_by: alice.username,
            },
          },
          {
            tag: 'project:release:add',
            ...tokenActor,
            project: { id: expect.any(String), name: 'matrix-pkg' },
            additional: { version: '1.0', canonical_version: '1', submitted_by: alice.username },
          },
          {
            tag: 'file:add',
            ...tokenActor,
            project: { id: expect.any(String), name: 'matrix-pkg' },
            additional: {
              filename: wheel10.filename,
              version: '1.0',
              sha256: wheel10.sha256,
              size: wheel10.bytes.length,
              submitted_by: alice.username,
            },
          },
        ],
      );
      const [{ id }] = await t.dataSource.query(
        "SELECT id FROM projects WHERE normalized_name = 'matrix-pkg'",
      );
      project = { id, name: 'matrix-pkg' };
      expect(new Set(rows.map((r) => r.project_id))).toEqual(new Set([id]));
    });

    it('another file of a release is file:add alone; a new version adds project:release:add', async () => {
      const tokenActor = { actor: alice.username, kind: 'token' as const, token: 'alice-ci' };
      await step(
        () =>
          upload(t, sdist10, 'matrix-pkg', '1.0', { token: aliceToken.value })
            .set('X-Forwarded-For', CLIENT)
            .set('User-Agent', UA)
            .expect(200),
        [
          {
            tag: 'file:add',
            ...tokenActor,
            project: p(),
            additional: {
              filename: sdist10.filename,
              version: '1.0',
              sha256: sdist10.sha256,
              size: sdist10.bytes.length,
              submitted_by: alice.username,
            },
          },
        ],
      );
      await step(
        () =>
          upload(t, wheel20, 'matrix-pkg', '2.0', { token: aliceToken.value })
            .set('X-Forwarded-For', CLIENT)
            .set('User-Agent', UA)
            .expect(200),
        [
          {
            tag: 'project:release:add',
            ...tokenActor,
            project: p(),
            additional: { version: '2.0', canonical_version: '2', submitted_by: alice.username },
          },
          {
            tag: 'file:add',
            ...tokenActor,
            project: p(),
            additional: {
              filename: wheel20.filename,
              version: '2.0',
              sha256: wheel20.sha256,
              size: wheel20.bytes.length,
              submitted_by: alice.username,
            },
          },
        ],
      );
      // An identical re-upload is answered 200 and records nothing.
      await step(
        () =>
          upload(t, wheel20, 'matrix-pkg', '2.0', { token: aliceToken.value })
            .set('X-Forwarded-For', CLIENT)
            .expect(200),
        [],
      );
    });

    /** The project-side and account-side pair of a role change. */
    function pair(
      action: string,
      actor: { actor: string; kind: 'user' },
      target: TestUser,
      extra: Record<string, unknown>,
    ): Expected[] {
      return [
        {
          tag: `project:role:${action}`,
          ...actor,
          project: p(),
          additional: { target_user: target.username, ...extra },
        },
        {
          tag: `account:role:${action}`,
          ...actor,
          user: target.user.id,
          project: p(),
          additional: { project_name: 'matrix-pkg', ...extra },
        },
      ];
    }
    const invitation = async (who: TestUser) =>
      (
        await t.dataSource.query('SELECT id FROM role_invitations WHERE user_id = $1', [
          who.user.id,
        ])
      )[0].id as string;
    const invite = (who: TestUser, role: string) =>
      owner
        .post('/manage/project/matrix-pkg/collaboration/invite', { username: who.username, role })
        .expect(303);

    it('invite, then accept: project:role:invite/add and account:role:invite/add', async () => {
      const asOwner = { actor: alice.username, kind: 'user' as const };
      await step(
        () => invite(bob, 'Maintainer'),
        pair('invite', asOwner, bob, { role_name: 'Maintainer', submitted_by: alice.username }),
      );
      const asBob = await signedIn(bob);
      const id = await invitation(bob);
      await step(
        () => asBob.post(`/manage/invitations/${id}/accept`).expect(303),
        pair('add', { actor: bob.username, kind: 'user' }, bob, {
          role_name: 'Maintainer',
          submitted_by: bob.username,
        }),
      );
    });

    it('invite, then decline by the invitee; invite, then revoke by the owner; an expired invitation replaced', async () => {
      const carol = await createUser(t);
      const dave = await createUser(t);
      erin = await createUser(t);
      secrets.push(carol.password, dave.password, erin.password);
      const asOwner = { actor: alice.username, kind: 'user' as const };
      await step(
        () => invite(carol, 'Owner'),
        pair('invite', asOwner, carol, { role_name: 'Owner', submitted_by: alice.username }),
      );
      const asCarol = await signedIn(carol);
      const carolInvitation = await invitation(carol);
      await step(
        () => asCarol.post(`/manage/invitations/${carolInvitation}/decline`).expect(303),
        pair('decline_invite', { actor: carol.username, kind: 'user' }, carol, {
          role_name: 'Owner',
        }),
      );

      await step(
        () => invite(dave, 'Maintainer'),
        pair('invite', asOwner, dave, { role_name: 'Maintainer', submitted_by: alice.username }),
      );
      const daveInvitation = await invitation(dave);
      await step(
        () =>
          owner
            .post(`/manage/project/matrix-pkg/collaboration/invitation/${daveInvitation}/revoke`)
            .expect(303),
        pair('revoke_invite', asOwner, dave, {
          role_name: 'Maintainer',
          submitted_by: alice.username,
        }),
      );

      await step(
        () => invite(erin, 'Maintainer'),
        pair('invite', asOwner, erin, { role_name: 'Maintainer', submitted_by: alice.username }),
      );
      // A week passes (written behind the app's back: time passing is no audited action).
      await t.dataSource.query(
        "UPDATE role_invitations SET expires_at = now() - interval '1 minute' WHERE user_id = $1",
        [erin.user.id],
      );
      const asErin = await signedIn(erin);
      const erinInvitation = await invitation(erin);
      await step(() => asErin.post(`/manage/invitations/${erinInvitation}/accept`).expect(400), []);
      // Inviting again replaces the expired invitation: one invite, no revoke.
      await step(
        () => invite(erin, 'Maintainer'),
        pair('invite', asOwner, erin, { role_name: 'Maintainer', submitted_by: alice.username }),
      );
      const again = await invitation(erin);
      await step(
        () => asErin.post(`/manage/invitations/${again}/accept`).expect(303),
        pair('add', { actor: erin.username, kind: 'user' }, erin, {
          role_name: 'Maintainer',
          submitted_by: erin.username,
        }),
      );
    });

    it('project:role:change and :remove, with their account-side events', async () => {
      const asOwner = { actor: alice.username, kind: 'user' as const };
      const [role] = await t.dataSource.query(
        'SELECT id FROM roles WHERE user_id = $1 AND project_id = $2',
        [bob.user.id, project.id],
      );
      await step(
        () =>
          owner
            .post(`/manage/project/matrix-pkg/collaboration/role/${role.id}/change`, {
              role: 'Owner',
            })
            .expect(303),
        pair('change', asOwner, bob, {
          role_name: 'Owner',
          previous_role_name: 'Maintainer',
          submitted_by: alice.username,
        }),
      );
      await step(
        () =>
          owner.post(`/manage/project/matrix-pkg/collaboration/role/${role.id}/remove`).expect(303),
        pair('remove', asOwner, bob, { role_name: 'Owner', submitted_by: alice.username }),
      );
      // The last owner cannot go: refused, nothing recorded.
      const [last] = await t.dataSource.query('SELECT id FROM roles WHERE user_id = $1', [
        alice.user.id,
      ]);
      await step(
        () =>
          owner.post(`/manage/project/matrix-pkg/collaboration/role/${last.id}/remove`).expect(409),
        [],
      );
    });

    it('project:release:yank and :unyank', async () => {
      const asOwner = { actor: alice.username, kind: 'user' as const, project: p() };
      await step(
        () =>
          owner
            .post('/manage/project/matrix-pkg/release/1.0/yank', { reason: 'broken build' })
            .expect(303),
        [
          {
            tag: 'project:release:yank',
            ...asOwner,
            additional: {
              version: '1.0',
              yanked_reason: 'broken build',
              submitted_by: alice.username,
            },
          },
        ],
      );
      await step(
        () => owner.post('/manage/project/matrix-pkg/release/1.0/unyank').expect(303),
        [
          {
            tag: 'project:release:unyank',
            ...asOwner,
            additional: { version: '1.0', submitted_by: alice.username },
          },
        ],
      );
    });

    it('an action that fails inside its transaction leaves no event', async () => {
      let fail = true;
      t.app.get(HookBus).on(
        'release.yanked',
        'transaction',
        () => {
          if (fail) throw new Error('a plugin fails inside the transaction');
        },
        { plugin: 'test' },
      );
      await step(
        () =>
          owner.post('/manage/project/matrix-pkg/release/1.0/yank', { reason: 'x' }).expect(500),
        [],
      );
      fail = false;
      const [release] = await t.dataSource.query(
        "SELECT yanked FROM releases WHERE version = '1.0'",
      );
      expect(release.yanked).toBe(false);
    });

    it('file:remove for one file; project:release:remove alone for a release with its files', async () => {
      const asOwner = { actor: alice.username, kind: 'user' as const, project: p() };
      await step(
        () =>
          owner
            .post('/manage/project/matrix-pkg/release/1.0/delete-file', {
              filename: sdist10.filename,
            })
            .expect(303),
        [
          {
            tag: 'file:remove',
            ...asOwner,
            additional: {
              filename: sdist10.filename,
              version: '1.0',
              submitted_by: alice.username,
            },
          },
        ],
      );
      await step(
        () =>
          owner
            .post('/manage/project/matrix-pkg/release/2.0/delete', { confirm_version: '2.0' })
            .expect(303),
        [
          {
            tag: 'project:release:remove',
            ...asOwner,
            additional: { version: '2.0', submitted_by: alice.username },
          },
        ],
      );
    });

    it('project:api_token:added and :removed for each project a token is scoped to, with the account events', async () => {
      const me = { actor: alice.username, kind: 'user' as const };
      let value = '';
      await step(async () => {
        const res = await owner
          .post('/manage/account/token/', {
            name: 'release-bot',
            scope: 'projects',
            projects: 'Matrix_Pkg',
          })
          .expect(200);
        value = /<code class="token-value">([^<]+)<\/code>/.exec(res.text)![1];
      }, [
        {
          tag: 'account:api_token:added',
          ...me,
          user: alice.user.id,
          additional: {
            description: 'release-bot',
            scope: ['matrix-pkg'],
            expires: null,
            token_id: expect.any(String),
          },
        },
        {
          tag: 'project:api_token:added',
          ...me,
          project: p(),
          additional: { description: 'release-bot', user: alice.username },
        },
      ]);
      secrets.push(value);
      const [token] = await t.dataSource.query(
        "SELECT id FROM api_tokens WHERE name = 'release-bot'",
      );
      await step(
        () => owner.post(`/manage/account/token/${token.id}/revoke`).expect(303),
        [
          {
            tag: 'account:api_token:removed',
            ...me,
            user: alice.user.id,
            additional: { description: 'release-bot', token_id: token.id, reason: 'user' },
          },
          {
            tag: 'project:api_token:removed',
            ...me,
            project: p(),
            additional: { description: 'release-bot', user: alice.username },
          },
        ],
      );
    });

    describe('project:upload:rejected, the client told exactly what it was told before', () => {
      const rejected = (
        extra: Partial<Expected> & { additional: Record<string, unknown> },
      ): Expected => ({
        tag: 'project:upload:rejected',
        actor: mallory.username,
        kind: 'token',
        token: 'mallory-ci',
        ...extra,
      });
      const post = (
        dist: Dist,
        name: string,
        version: string,
        token?: string,
        fields?: Record<string, string>,
      ) =>
        upload(t, dist, name, version, { token, fields })
          .set('X-Forwarded-For', CLIENT)
          .set('User-Agent', UA);

      it('a bad token: refused at sign-in, before the form is read (admin log only)', async () => {
        const bad = 'larder-0000000000000000-notarealtokenvaluenotarealtokenvalue1234';
        secrets.push(bad);
        let message = '';
        await step(async () => {
          const res = await post(wheel10, 'matrix-pkg', '1.0', bad).expect(403);
          message = statusMessage(res);
        }, [
          {
            tag: 'project:upload:rejected',
            actor: null,
            kind: 'anonymous',
            additional: {
              filename: null,
              reason: 'invalid_credentials',
              message: expect.any(String),
            },
          },
        ]);
        const [row] = await t.dataSource.query(
          "SELECT additional FROM audit_events WHERE tag = 'project:upload:rejected' ORDER BY id DESC LIMIT 1",
        );
        expect(row.additional.message).toBe(message);
      });

      it('no permission on the project (in its history)', async () => {
        const other = await buildWheel({ name: 'matrix-pkg', version: '3.0' });
        await step(async () => {
          const res = await post(other, 'matrix-pkg', '3.0', malloryToken.value).expect(403);
          expect(statusMessage(res)).toContain(
            `The user '${mallory.username}' isn't allowed to upload to project 'matrix-pkg'`,
          );
        }, [
          rejected({
            project: p(),
            additional: {
              filename: other.filename,
              reason: 'no_permission',
              message: expect.stringContaining("isn't allowed"),
            },
          }),
        ]);
      });

      it('an invalid file, and a file that exists with other bytes', async () => {
        const other = await buildWheel({ name: 'matrix-pkg', version: '3.0' });
        const mine = {
          actor: alice.username,
          kind: 'token' as const,
          token: 'alice-ci',
          project: p(),
        };
        await step(
          () =>
            post(other, 'matrix-pkg', '3.0', aliceToken.value, {
              sha256_digest: '0'.repeat(64),
            }).expect(400),
          [
            rejected({
              ...mine,
              additional: {
                filename: other.filename,
                reason: 'invalid_file',
                message: expect.stringContaining('digest'),
              },
            }),
          ],
        );
        const impostor = await buildWheel({
          name: 'matrix-pkg',
          version: '1.0',
          extra: { 'matrix_pkg/x.py': 'x = 1\n' },
        });
        expect(impostor.filename).toBe(wheel10.filename);
        await step(async () => {
          const res = await post(impostor, 'matrix-pkg', '1.0', aliceToken.value).expect(400);
          expect(statusMessage(res)).toMatch(/^File already exists/);
        }, [
          rejected({
            ...mine,
            additional: {
              filename: impostor.filename,
              reason: 'file_exists',
              message: expect.stringMatching(/^File already exists/),
            },
          }),
        ]);
      });

      it('an overlong project name: refused as invalid, and kept cut to the column', async () => {
        const long = `x${'y'.repeat(299)}`;
        const rows = await step(
          () => post(wheel10, long, '1.0', aliceToken.value).expect(400),
          [
            {
              tag: 'project:upload:rejected',
              actor: alice.username,
              kind: 'token',
              token: 'alice-ci',
              project: { id: null, name: `${long.slice(0, 199)}…` },
              additional: {
                filename: wheel10.filename,
                reason: 'invalid_file',
                message: expect.any(String),
              },
            },
          ],
        );
        expect(rows[0].project_name).toHaveLength(200);
      });

      it("a plugin's veto: exactly one event naming the plugin and its message, and nothing else stored", async () => {
        const reserved = await buildWheel({ name: 'reserved-thing', version: '1.0' });
        const counts = () =>
          t.dataSource.query(
            'SELECT (SELECT count(*) FROM projects) p, (SELECT count(*) FROM releases) r, (SELECT count(*) FROM release_files) f',
          );
        const before = await counts();
        const veto = `project names starting with "reserved-" are reserved; ${alice.username} may not upload to reserved-thing.`;
        await step(async () => {
          const res = await post(reserved, 'reserved-thing', '1.0', aliceToken.value).expect(400);
          expect(statusMessage(res)).toBe(`upload-policy: ${veto}`);
        }, [
          {
            tag: 'project:upload:rejected',
            actor: alice.username,
            kind: 'token',
            token: 'alice-ci',
            // No such project: the name it was refused under, with no id (admin log only).
            project: { id: null, name: 'reserved-thing' },
            additional: {
              filename: reserved.filename,
              reason: 'vetoed',
              message: veto,
              plugin: 'upload-policy',
            },
          },
        ]);
        expect(await counts()).toEqual(before);
      });
    });

    it("shows release and file events in plain words on the project's history, to owners only", async () => {
      const page = await owner.agent.get('/manage/project/matrix-pkg/history/').expect(200);
      expect(page.text).toContain(`Release 1.0 created by ${alice.username}`);
      expect(page.text).toContain(
        `File ${wheel10.filename} uploaded to release 1.0 by ${alice.username}`,
      );
      expect(page.text).toContain(`Release 2.0 removed by ${alice.username}`);
      expect(page.text).toContain('Upload of matrix_pkg-3.0-py3-none-any.whl rejected');
      // Links to what still exists: the project, release 1.0; release 2.0 is gone.
      expect(page.text).toContain('Project <a href="/project/matrix-pkg/">matrix-pkg</a>');
      expect(page.text).toContain('release <a href="/project/matrix-pkg/1.0/">1.0</a>');
      expect(page.text).toContain('release <span class="audit-gone">2.0</span>');
      expect(page.text).not.toContain('href="/project/matrix-pkg/2.0/"');
      // The refusal of a name no project has is in no project's history.
      expect(page.text).not.toContain('reserved-thing');
      // A maintainer, a former owner, a stranger, a visitor: none of them.
      const asErin = await browser(erin);
      await asErin.agent.get('/manage/project/matrix-pkg/history/').expect(404);
      const asBob = await browser(bob);
      await asBob.agent.get('/manage/project/matrix-pkg/history/').expect(404);
      const asMallory = await browser(mallory);
      await asMallory.agent.get('/manage/project/matrix-pkg/history/').expect(404);
      await t.http().get('/manage/project/matrix-pkg/history/').expect(303);
    });

    it('project:delete: one event for the project and everything in it; its history stays for admins', async () => {
      await step(
        () =>
          owner
            .post('/manage/project/matrix-pkg/delete', { confirm_project_name: 'matrix-pkg' })
            .expect(303),
        [
          {
            tag: 'project:delete',
            actor: alice.username,
            kind: 'user',
            project: p(),
            additional: { deleted_by: alice.username },
          },
        ],
      );
      await owner.agent.get('/manage/project/matrix-pkg/history/').expect(404);
      const admin = await browser(root);
      const log = await admin.agent.get('/admin/audit/?project=matrix-pkg').expect(200);
      expect(log.text).toContain(`Project deleted by ${alice.username}`);
      // Deleted: the name in plain text, no link to a page that is gone.
      expect(log.text).toContain('Project <span class="audit-gone">matrix-pkg</span>');
      expect(log.text).not.toContain('href="/project/matrix-pkg/"');
      const releases = await admin.agent
        .get('/admin/audit/?project=matrix-pkg&tag=project:release:add')
        .expect(200);
      expect(releases.text).toContain(`Release 1.0 created by ${alice.username}`);
      const vetoed = await admin.agent.get('/admin/audit/?project=reserved-thing').expect(200);
      expect(vetoed.text).toContain('refused by a plugin');
    });
  });

  describe('the three views and the stored rows', () => {
    it('keeps every secret the matrix used out of every stored event', async () => {
      await settle();
      const rows: Array<{ row: string }> = await t.dataSource.query(
        'SELECT row_to_json(a)::text AS row FROM audit_events a',
      );
      const all = rows.map((r) => r.row).join('\n');
      expect(secrets.length).toBeGreaterThan(15);
      for (const secret of secrets) expect(all).not.toContain(secret);
    });

    it('shows each account only its own history; the admin log only to admins', async () => {
      const asMallory = await browser(mallory);
      const own = await asMallory.agent.get('/manage/account/history/').expect(200);
      expect(own.text).not.toContain(alice.username);
      expect(own.text).not.toContain('matrix-pkg');
      const asAlice = await browser(alice);
      const hers = await asAlice.agent.get('/manage/account/history/').expect(200);
      expect(hers.text).toContain('Added to project matrix-pkg as Owner');
      expect(hers.text).not.toContain(bob.username);
      await asAlice.agent.get('/admin/audit/').expect(404);
      await t.http().get('/admin/audit/').expect(303);
      await t.http().get('/manage/account/history/').expect(303);
    });

    it('has met every tag of the catalogue an HTTP action makes', () => {
      const missing = CORE_CATALOGUE.map((d) => d.tag).filter(
        (tag) => !seen.has(tag) && !NOT_HTTP.includes(tag),
      );
      expect(missing).toEqual([]);
    });
  });
});
