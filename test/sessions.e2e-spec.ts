import { Controller, Get, Module, Post } from '@nestjs/common';
import request from 'supertest';
import { Public } from '../src/accounts/auth/auth.decorators.js';
import { Session } from '../src/accounts/sessions/session.entity.js';
import { basicAuth, createToken, createUser, csrfFrom, login } from './helpers/factories.js';
import { AuthProbeModule } from './helpers/auth-probe.module.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('sign-in and sessions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ imports: [AuthProbeModule] });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function loginForm(agent = request.agent(t.app.getHttpServer())) {
    const page = await agent.get('/account/login/').expect(200);
    return { agent, csrf: csrfFrom(page.text) };
  }

  it('signs in with username and password, sets a safe cookie and shows the user in the header', async () => {
    const alice = await createUser(t, { username: 'Alice' });
    const { agent, csrf } = await loginForm();
    const res = await agent
      .post('/account/login/')
      .type('form')
      .send({
        username: 'alice',
        password: alice.password,
        csrf_token: csrf,
        next: '/manage/account/',
      })
      .expect(303);
    expect(res.headers.location).toBe('/manage/account/');
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith('larder_session='),
    )!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).not.toMatch(/Secure/i);
    const page = await agent.get('/manage/account/').expect(200);
    expect(page.text).toContain('href="/manage/account/">Alice</a>');
    expect(page.text).toContain('>Account</a>');
    expect(page.text).toContain('>Security</a>');
    expect(page.text).toContain('>API tokens</a>');
  });

  it('refuses a wrong password and an unknown user with the same message', async () => {
    const bob = await createUser(t);
    const { agent, csrf } = await loginForm();
    const wrong = await agent
      .post('/account/login/')
      .type('form')
      .send({ username: bob.username, password: 'not-the-password', csrf_token: csrf })
      .expect(400);
    expect(wrong.text).toContain('The username or password is not right.');
    expect(wrong.text).not.toContain('not-the-password');
    const unknown = await agent
      .post('/account/login/')
      .type('form')
      .send({ username: 'nobody-here', password: 'whatever1234', csrf_token: csrf })
      .expect(400);
    expect(unknown.text).toContain('The username or password is not right.');
  });

  it('refuses a sign-in POST without a CSRF token, or with one from another browser', async () => {
    const carol = await createUser(t);
    await t
      .http()
      .post('/account/login/')
      .type('form')
      .send({ username: carol.username, password: carol.password })
      .expect(403);
    const other = await loginForm();
    const { agent } = await loginForm();
    await agent
      .post('/account/login/')
      .type('form')
      .send({ username: carol.username, password: carol.password, csrf_token: other.csrf })
      .expect(403);
  });

  it('gives a new session id at every sign-in and ignores one the browser brings', async () => {
    const dave = await createUser(t);
    const first = await login(t, dave);
    const second = await login(t, dave);
    const rows = await t.dataSource.getRepository(Session).findBy({ userId: dave.user.id });
    expect(rows).toHaveLength(2);
    expect(rows[0].id).not.toBe(rows[1].id);
    // A made-up cookie is no session.
    await t
      .http()
      .get('/manage/account/')
      .set('Cookie', 'larder_session=' + 'A'.repeat(43))
      .expect(303);
    await first.agent.get('/manage/account/').expect(200);
    await second.agent.get('/manage/account/').expect(200);
  });

  it('signs out with a POST carrying the CSRF token, and the session stops working', async () => {
    const erin = await createUser(t);
    const { agent, csrf } = await login(t, erin);
    await agent.post('/account/logout/').type('form').send({}).expect(403);
    await agent.post('/account/logout/').type('form').send({ csrf_token: csrf }).expect(303);
    const after = await agent.get('/manage/account/').expect(303);
    expect(after.headers.location).toBe('/account/login/?next=%2Fmanage%2Faccount%2F');
  });

  it("lists the user's sessions and signs out one or all others, never another user's", async () => {
    const fay = await createUser(t);
    const here = await login(t, fay);
    const laptop = await login(t, fay);
    const phone = await login(t, fay);
    const signedIn = async (agent: typeof here.agent) =>
      (await agent.get('/manage/account/').redirects(0)).status === 200;
    const page = (await here.agent.get('/manage/account/security/').expect(200)).text;
    const handles = [...page.matchAll(/\/manage\/account\/sessions\/([0-9a-f]+)\/end/g)].map(
      (m) => m[1],
    );
    expect(handles).toHaveLength(2);
    expect(page.match(/This session/g)).toHaveLength(1);
    // Another user cannot end them, even knowing a handle.
    const mallory = await login(t, await createUser(t));
    await mallory.agent
      .post(`/manage/account/sessions/${handles[0]}/end`)
      .type('form')
      .send({ csrf_token: mallory.csrf })
      .expect(303);
    expect([await signedIn(laptop.agent), await signedIn(phone.agent)]).toEqual([true, true]);
    await here.agent
      .post(`/manage/account/sessions/${handles[0]}/end`)
      .type('form')
      .send({ csrf_token: here.csrf })
      .expect(303);
    expect([await signedIn(laptop.agent), await signedIn(phone.agent)].sort()).toEqual([
      false,
      true,
    ]);
    await here.agent
      .post('/manage/account/sessions/end-others')
      .type('form')
      .send({ csrf_token: here.csrf })
      .expect(303);
    expect([await signedIn(laptop.agent), await signedIn(phone.agent)]).toEqual([false, false]);
    expect(await signedIn(here.agent)).toBe(true);
    expect(await signedIn(mallory.agent)).toBe(true);
    await here.agent.post('/manage/account/sessions/end-others').type('form').send({}).expect(403);
  });

  it('sends anonymous page visitors to the sign-in page, and gives APIs 401 with Basic', async () => {
    const page = await t
      .http()
      .get('/manage/account/token/')
      .set('Accept', 'text/html')
      .expect(303);
    expect(page.headers.location).toBe('/account/login/?next=%2Fmanage%2Faccount%2Ftoken%2F');
    const api = await t.http().get('/probe-auth/whoami').expect(401);
    expect(api.headers['www-authenticate']).toBe('Basic realm="larder"');
  });

  it('ends a session that was idle too long, and one past its absolute lifetime', async () => {
    const frank = await createUser(t);
    const idle = await login(t, frank);
    const old = await login(t, frank);
    const repo = t.dataSource.getRepository(Session);
    const [a, b] = await repo.find({
      where: { userId: frank.user.id },
      order: { createdAt: 'ASC' },
    });
    await repo.update({ id: a.id }, { lastSeenAt: new Date(Date.now() - 121 * 60_000) });
    await repo.update({ id: b.id }, { createdAt: new Date(Date.now() - 13 * 3_600_000) });
    await idle.agent.get('/manage/account/').expect(303);
    await old.agent.get('/manage/account/').expect(303);
    expect(await repo.countBy({ userId: frank.user.id })).toBe(0);
  });

  it('authenticates an API token by HTTP Basic with any username and sets the token actor', async () => {
    const hank = await createUser(t);
    const { value, id } = await createToken(t, hank.user, { name: 'ci' });
    expect(value).toMatch(/^larder-[0-9a-f]{16}-[A-Za-z0-9_-]{43}$/);
    for (const username of ['__token__', 'anything']) {
      const res = await t
        .http()
        .get('/probe-auth/whoami')
        .set('Authorization', basicAuth(value, username))
        .expect(200);
      expect(res.body.actor).toEqual({
        kind: 'token',
        tokenId: id,
        tokenName: 'ci',
        userId: hank.user.id,
        username: hank.username,
        isAdmin: false,
      });
    }
  });

  it('does not let an API token into session-only pages', async () => {
    const ida = await createUser(t);
    const { value } = await createToken(t, ida.user);
    await t
      .http()
      .get('/probe-auth/session-only')
      .set('Accept', 'application/json')
      .set('Authorization', basicAuth(value))
      .expect(401);
  });
});

@Controller('forgotten')
class ForgottenController {
  @Get('open')
  @Public()
  open() {
    return 'ok';
  }

  @Post('oops')
  oops() {
    return 'should never be reachable';
  }
}

@Module({ controllers: [ForgottenController] })
class ForgottenModule {}

describe('routes without an access policy', () => {
  it('stop the app from starting, naming each one', async () => {
    await expect(createTestApp({ imports: [ForgottenModule] })).rejects.toThrow(
      /declare no access policy.*POST \/forgotten\/oops/,
    );
  });
});
