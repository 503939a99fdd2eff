import { Writable } from 'node:stream';
import request from 'supertest';
import type { EntityManager } from 'typeorm';
import { HookBus } from '../src/hooks/hook-bus.js';
import type { HookName } from '../src/hooks/hook-map.js';
import { TabRegistry } from '../src/web/tabs.js';
import { createToken, createUser, csrfFrom, login } from './helpers/factories.js';
import { createProject } from './helpers/projects.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/** What the audit plugin will see: every action's hook, with its payload and actor. */
describe('lifecycle hooks of account actions', () => {
  let t: TestApp;
  const seen: { hook: string; phase: string; event: Record<string, unknown>; manager: boolean }[] =
    [];
  const HOOKS: HookName[] = [
    'account.created',
    'account.login',
    'account.logout',
    'account.password.changed',
    'account.email.added',
    'account.disabled',
    'account.admin-changed',
    'token.created',
    'token.revoked',
  ];

  beforeAll(async () => {
    t = await createTestApp();
    const bus = t.app.get(HookBus);
    for (const hook of HOOKS) {
      for (const phase of ['transaction', 'after'] as const) {
        bus.on(
          hook,
          phase,
          (event: object, manager?: EntityManager) => {
            seen.push({ hook, phase, event: event as Record<string, unknown>, manager: !!manager });
          },
          { plugin: 'recorder' },
        );
      }
    }
    t.app.get(TabRegistry).contribute({
      set: 'account',
      id: 'history',
      title: 'Security history',
      path: '/manage/account/history/',
      order: 40,
      owner: 'test-plugin',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const events = (hook: string, phase = 'after') =>
    seen.filter((s) => s.hook === hook && s.phase === phase).map((s) => s.event);

  it('emits account.login for failures and successes, and account.logout, with the actor', async () => {
    const alice = await createUser(t, { username: 'hooked' });
    const agent = request.agent(t.app.getHttpServer());
    const page = await agent.get('/account/login/').expect(200);
    await agent
      .post('/account/login/')
      .type('form')
      .send({ username: 'hooked', password: 'wrong password!', csrf_token: csrfFrom(page.text) })
      .expect(400);
    await agent
      .post('/account/login/')
      .type('form')
      .send({ username: 'ghost', password: 'wrong password!', csrf_token: csrfFrom(page.text) })
      .expect(400);
    const { agent: signedIn, csrf } = await login(t, alice);
    await signedIn.post('/account/logout/').type('form').send({ csrf_token: csrf }).expect(303);
    const logins = events('account.login');
    expect(logins).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          outcome: 'failure',
          reason: 'invalid_password',
          user: { id: alice.user.id, username: 'hooked' },
          method: 'password',
        }),
        expect.objectContaining({
          outcome: 'failure',
          reason: 'unknown_user',
          user: null,
          usernameAttempted: 'ghost',
        }),
        expect.objectContaining({
          outcome: 'success',
          method: 'password',
          user: { id: alice.user.id, username: 'hooked' },
        }),
      ]),
    );
    const logout = events('account.logout').at(-1)!;
    expect(logout).toMatchObject({
      user: { id: alice.user.id },
      actor: { kind: 'user', userId: alice.user.id },
    });
  });

  it('runs the transaction phase with the manager, and the after phase, for each change', async () => {
    const bob = await createUser(t);
    expect(events('account.created', 'transaction').at(-1)).toMatchObject({
      user: { id: bob.user.id, username: bob.username },
      email: bob.email,
      byAdmin: true,
      actor: { kind: 'system', name: 'test:create-user' },
    });
    expect(seen.filter((s) => s.phase === 'transaction').every((s) => s.manager)).toBe(true);
    const { agent, csrf } = await login(t, bob);
    await agent
      .post('/manage/account/emails')
      .type('form')
      .send({ csrf_token: csrf, email: 'bob2@x.test' })
      .expect(303);
    expect(events('account.email.added').at(-1)).toMatchObject({
      email: 'bob2@x.test',
      actor: { kind: 'user', userId: bob.user.id },
    });
    await createProject(t, 'foo', bob.user);
    const created = await agent
      .post('/manage/account/token/')
      .type('form')
      .send({ csrf_token: csrf, name: 'deploy', scope: 'projects', projects: 'Foo' })
      .expect(200);
    const tokenEvent = events('token.created').at(-1)!;
    expect(tokenEvent).toMatchObject({
      token: { name: 'deploy', projects: ['foo'], expiresAt: null },
    });
    // Never the value.
    const value = /class="token-value">(larder-[^<]+)</.exec(created.text)![1];
    expect(JSON.stringify(seen)).not.toContain(value);
    const id = (tokenEvent.token as { id: string }).id;
    await agent
      .post(`/manage/account/token/${id}/revoke`)
      .type('form')
      .send({ csrf_token: csrf })
      .expect(303);
    expect(events('token.revoked').at(-1)).toMatchObject({ token: { id }, reason: 'user' });
    await agent
      .post('/manage/account/password')
      .type('form')
      .send({
        csrf_token: csrf,
        current_password: bob.password,
        new_password: 'a changed passphrase',
        password_confirm: 'a changed passphrase',
      })
      .expect(303);
    expect(events('account.password.changed').at(-1)).toMatchObject({ user: { id: bob.user.id } });
  });

  it('emits account.disabled and account.admin-changed from the admin pages', async () => {
    const admin = await createUser(t, { admin: true });
    const target = await createUser(t);
    await createToken(t, target.user);
    const { agent, csrf } = await login(t, admin);
    await agent
      .post(`/admin/users/${target.username}/disable`)
      .type('form')
      .send({ csrf_token: csrf, reason: 'gone' })
      .expect(303);
    await agent
      .post(`/admin/users/${target.username}/grant-admin`)
      .type('form')
      .send({ csrf_token: csrf })
      .expect(303);
    expect(events('account.disabled').at(-1)).toMatchObject({
      user: { id: target.user.id },
      disabled: true,
      reason: 'gone',
      actor: { kind: 'user', userId: admin.user.id, isAdmin: true },
    });
    expect(events('account.admin-changed').at(-1)).toMatchObject({
      user: { id: target.user.id },
      isAdmin: true,
    });
  });

  it('renders tabs contributed by a plugin on the account pages', async () => {
    const carol = await createUser(t);
    const { agent } = await login(t, carol);
    for (const path of [
      '/manage/account/',
      '/manage/account/security/',
      '/manage/account/token/',
    ]) {
      const page = await agent.get(path).expect(200);
      expect(page.text).toContain('<a href="/manage/account/history/">Security history</a>');
    }
  });
});

describe('failed sign-ins per client IP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: { LARDER_LOGIN_FAILURES_PER_IP: '3', LARDER_LOGIN_FAILURES_PER_ACCOUNT: '100' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('are limited across usernames: guessing many accounts from one address gets 429', async () => {
    const erin = await createUser(t);
    const agent = request.agent(t.app.getHttpServer());
    const csrf = csrfFrom((await agent.get('/account/login/').expect(200)).text);
    for (const name of ['a1', 'a2', 'a3']) {
      await agent
        .post('/account/login/')
        .type('form')
        .send({ csrf_token: csrf, username: name, password: 'guess guess' })
        .expect(400);
    }
    const res = await agent
      .post('/account/login/')
      .type('form')
      .send({ csrf_token: csrf, username: erin.username, password: erin.password })
      .expect(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('behind TLS (LARDER_BASE_URL=https://…), with a mail server that is down', () => {
  let t: TestApp;
  let log = '';
  beforeAll(async () => {
    t = await createTestApp({
      env: {
        LARDER_BASE_URL: 'https://larder.example.test',
        // Nothing listens on port 1: every delivery fails at once.
        LARDER_SMTP_URL: 'smtp://127.0.0.1:1',
        LARDER_LOG_LEVEL: 'error',
      },
      logDestination: new Writable({
        write(chunk, _encoding, done) {
          log += chunk.toString();
          done();
        },
      }),
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('marks the session and CSRF cookies Secure', async () => {
    const dave = await createUser(t);
    const page = await t.http().get('/account/login/').expect(200);
    const csrfCookie = /larder_csrf=[^;]+/.exec(String(page.headers['set-cookie']))![0];
    expect(String(page.headers['set-cookie'])).toMatch(/larder_csrf=[^;]+;.*Secure/);
    // A browser sends Secure cookies back over TLS only; supertest speaks plain HTTP, so by hand.
    const res = await t
      .http()
      .post('/account/login/')
      .set('Cookie', csrfCookie)
      .type('form')
      .send({ username: dave.username, password: dave.password, csrf_token: csrfFrom(page.text) })
      .expect(303);
    expect(String(res.headers['set-cookie'])).toMatch(/larder_session=[^;]+;.*HttpOnly.*Secure/);
  });

  it('still creates accounts when e-mail cannot be delivered, and logs the failure', async () => {
    const erin = await createUser(t, { email: 'erin@example.test' });
    expect(erin.user.id).toBeDefined();
    for (let i = 0; i < 50 && !log.includes('"mailTo":"erin@example.test"'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(log).toContain('"mailTo":"erin@example.test"');
    expect(log).toContain('e-mail failed');
  });
});
