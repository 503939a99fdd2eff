import request from 'supertest';
import { Mailer, type OutgoingMail } from '../src/accounts/emails/mailer.service.js';
import { Session } from '../src/accounts/sessions/session.entity.js';
import { User } from '../src/accounts/users/user.entity.js';
import { HookBus } from '../src/hooks/hook-bus.js';
import { HookVeto } from '../src/hooks/hook-veto.js';
import { createUser, login } from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('/admin/users/', () => {
  let t: TestApp;
  const outbox: OutgoingMail[] = [];
  beforeAll(async () => {
    t = await createTestApp();
    t.app.get(Mailer).onSend((mail) => outbox.push(mail));
  });
  afterAll(async () => {
    await t?.close();
  });

  async function asAdmin() {
    const admin = await createUser(t, { admin: true });
    return { admin, ...(await login(t, admin)) };
  }

  it('is for administrators only: others get 403, anonymous visitors the sign-in page', async () => {
    const plain = await createUser(t);
    const { agent, csrf } = await login(t, plain);
    const page = await agent.get('/admin/users/').expect(403);
    expect(page.text).not.toContain('Create a user');
    expect((await agent.get('/manage/account/').expect(200)).text).not.toContain(
      'href="/admin/users/"',
    );
    await agent
      .post(`/admin/users/${plain.username}/grant-admin`)
      .type('form')
      .send({ csrf_token: csrf })
      .expect(403);
    const anon = await t.http().get('/admin/users/').set('Accept', 'text/html').expect(303);
    expect(anon.headers.location).toBe('/account/login/?next=%2Fadmin%2Fusers%2F');
  });

  it('lists users with their primary e-mail and status', async () => {
    const listed = await createUser(t, { username: 'Listed', email: 'listed@example.test' });
    const { agent } = await asAdmin();
    const page = await agent.get('/admin/users/').expect(200);
    expect(page.text).toContain('>Users</a>');
    expect(page.text).toContain(listed.username);
    expect(page.text).toContain('listed@example.test');
  });

  it('pages through users 50 at a time in username order, and searches usernames and e-mails', async () => {
    // Plain rows: 60 argon2 hashes would only slow the test down.
    await t.dataSource.query(
      `INSERT INTO users (username, normalized_username)
       SELECT 'zpage' || lpad(i::text, 3, '0'), 'zpage' || lpad(i::text, 3, '0') FROM generate_series(1, 60) i`,
    );
    await createUser(t, { username: 'findme', email: 'Hidden.Address@example.test' });
    const { agent } = await asAdmin();
    const usernames = (html: string) => [...html.matchAll(/<td>(zpage\d+)/g)].map((m) => m[1]);
    const page = (url: string) => agent.get(url).expect(200);
    let html = (await page('/admin/users/?q=zpage')).text;
    expect(usernames(html)).toHaveLength(50);
    expect(usernames(html)[0]).toBe('zpage001');
    const next = /href="\/admin\/users\/(\?[^"]+)" rel="next"/.exec(html)![1];
    expect(next.replaceAll('&#x3D;', '=').replaceAll('&amp;', '&')).toBe('?q=zpage&after=zpage050');
    html = (await page('/admin/users/?q=zpage&after=zpage050')).text;
    expect(usernames(html)).toEqual(
      Array.from({ length: 10 }, (_, i) => `zpage${String(51 + i).padStart(3, '0')}`),
    );
    expect(html).not.toContain('rel="next"');
    // By e-mail, case-insensitively; LIKE wildcards are taken literally.
    expect((await page('/admin/users/?q=hidden.ADDRESS')).text).toContain('findme');
    expect((await page('/admin/users/?q=%25')).text).toContain('No account matches.');
  });

  it('creates users: with a password, or mailing a link to choose one', async () => {
    const { agent, csrf } = await asAdmin();
    await agent
      .post('/admin/users/')
      .type('form')
      .send({
        csrf_token: csrf,
        username: 'made',
        email: 'made@example.test',
        password: 'chosen by an administrator',
        admin: 'on',
      })
      .expect(303);
    const made = await t.dataSource
      .getRepository(User)
      .findOneByOrFail({ normalizedUsername: 'made' });
    expect(made.isAdmin).toBe(true);
    await login(t, {
      user: made,
      username: 'made',
      password: 'chosen by an administrator',
      email: '',
    });

    await agent
      .post('/admin/users/')
      .type('form')
      .send({ csrf_token: csrf, username: 'invited', email: 'invited@example.test', password: '' })
      .expect(303);
    const mail = [...outbox]
      .reverse()
      .find((m) => m.to === 'invited@example.test' && /Reset/.test(m.subject));
    expect(mail?.text).toMatch(/\/account\/reset-password\/confirm\/\?token=/);

    const taken = await agent
      .post('/admin/users/')
      .type('form')
      .send({ csrf_token: csrf, username: 'MADE', email: 'other@example.test' })
      .expect(400);
    expect(taken.text).toContain('already taken');
  });

  it('disables a user (ending their sessions) and enables them again', async () => {
    const target = await createUser(t);
    const theirs = await login(t, target);
    const { agent, csrf } = await asAdmin();
    await agent
      .post(`/admin/users/${target.username}/disable`)
      .type('form')
      .send({ csrf_token: csrf, reason: 'left the company' })
      .expect(303);
    await theirs.agent.get('/manage/account/').expect(303);
    expect(await t.dataSource.getRepository(Session).countBy({ userId: target.user.id })).toBe(0);
    await expect(login(t, target)).rejects.toThrow(/failed: 400/);
    const page = await agent.get('/admin/users/').expect(200);
    expect(page.text).toContain('Disabled: left the company');
    await agent
      .post(`/admin/users/${target.username}/enable`)
      .type('form')
      .send({ csrf_token: csrf })
      .expect(303);
    await login(t, target);
  });

  it('grants and revokes administrator rights', async () => {
    const target = await createUser(t);
    const { agent, csrf } = await asAdmin();
    await agent
      .post(`/admin/users/${target.username}/grant-admin`)
      .type('form')
      .send({ csrf_token: csrf })
      .expect(303);
    const theirs = await login(t, target);
    await theirs.agent.get('/admin/users/').expect(200);
    await agent
      .post(`/admin/users/${target.username}/revoke-admin`)
      .type('form')
      .send({ csrf_token: csrf })
      .expect(303);
    await theirs.agent.get('/admin/users/').expect(403);
  });

  it('does not let an administrator disable or demote themselves', async () => {
    const { admin, agent, csrf } = await asAdmin();
    const res = await agent
      .post(`/admin/users/${admin.username}/disable`)
      .type('form')
      .send({ csrf_token: csrf })
      .expect(400);
    expect(res.text).toContain('cannot disable your own account');
    await agent
      .post(`/admin/users/${admin.username}/revoke-admin`)
      .type('form')
      .send({ csrf_token: csrf })
      .expect(400);
    await agent
      .post('/admin/users/nobody-at-all/disable')
      .type('form')
      .send({ csrf_token: csrf })
      .expect(404);
  });

  it('answers a plugin veto with 403 naming the plugin, and changes nothing', async () => {
    const target = await createUser(t);
    const { agent, csrf } = await asAdmin();
    t.app.get(HookBus).on(
      'account.disabled',
      'before',
      (event) => {
        if (event.user.id === target.user.id) throw new HookVeto('this account is protected');
      },
      { plugin: 'guardian' },
    );
    const res = await agent
      .post(`/admin/users/${target.username}/disable`)
      .type('form')
      .set('Accept', 'application/json')
      .send({ csrf_token: csrf })
      .expect(403);
    expect(res.body).toEqual({ code: 'FORBIDDEN', message: 'guardian: this account is protected' });
    const row = await t.dataSource.getRepository(User).findOneByOrFail({ id: target.user.id });
    expect(row.isDisabled).toBe(false);
  });

  it('needs the CSRF token on every admin form', async () => {
    const target = await createUser(t);
    const { agent } = await asAdmin();
    await agent
      .post(`/admin/users/${target.username}/grant-admin`)
      .type('form')
      .send({})
      .expect(403);
    const other = request.agent(t.app.getHttpServer());
    await other
      .post('/admin/users/')
      .type('form')
      .send({ username: 'x', email: 'x@x.test' })
      .expect(303);
  });
});
