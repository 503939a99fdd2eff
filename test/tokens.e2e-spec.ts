import { ApiToken } from '../src/accounts/tokens/api-token.entity.js';
import { AuthProbeModule } from './helpers/auth-probe.module.js';
import { createProject, grantRole } from './helpers/projects.js';
import { basicAuth, createToken, createUser, login } from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('API tokens', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ imports: [AuthProbeModule] });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates a token on /manage/account/token/, shows the value once, stores only a hash', async () => {
    const alice = await createUser(t);
    const { agent, csrf } = await login(t, alice);
    const created = await agent
      .post('/manage/account/token/')
      .type('form')
      .send({ csrf_token: csrf, name: 'release bot', scope: 'account', expires_days: '' })
      .expect(200);
    expect(created.headers['cache-control']).toBe('no-store');
    const value = /class="token-value">(larder-[^<]+)</.exec(created.text)![1];
    const row = await t.dataSource
      .getRepository(ApiToken)
      .findOneByOrFail({ userId: alice.user.id });
    expect(row.name).toBe('release bot');
    expect(row.projects).toBeNull();
    expect(row.expiresAt).toBeNull();
    expect(JSON.stringify(row)).not.toContain(value.slice(24));
    const list = await agent.get('/manage/account/token/').expect(200);
    expect(list.text).toContain('release bot');
    expect(list.text).not.toContain(value);
    // It works, and its use is recorded.
    await t
      .http()
      .get('/probe-auth/whoami')
      .set('Accept', 'application/json')
      .set('Authorization', basicAuth(value))
      .expect(200);
    const used = await t.dataSource.getRepository(ApiToken).findOneByOrFail({ id: row.id });
    expect(used.lastUsedAt).not.toBeNull();
  });

  it('creates a project-scoped token with an expiry from the form', async () => {
    const bob = await createUser(t);
    await grantRole(t, 'Acme.Widgets', bob.user, 'Owner');
    await grantRole(t, 'other-lib', bob.user, 'Maintainer');
    const { agent, csrf } = await login(t, bob);
    await agent
      .post('/manage/account/token/')
      .type('form')
      .send({
        csrf_token: csrf,
        name: 'scoped',
        scope: 'projects',
        projects: 'Acme.Widgets, other_lib',
        expires_days: '30',
      })
      .expect(200);
    const row = await t.dataSource.getRepository(ApiToken).findOneByOrFail({ userId: bob.user.id });
    expect(row.projects).toEqual(['acme-widgets', 'other-lib']);
    const days = (row.expiresAt!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
  });

  it('answers bad token form input with a 400 that says what is wrong', async () => {
    const carl = await createUser(t);
    const { agent, csrf } = await login(t, carl);
    const noName = await agent
      .post('/manage/account/token/')
      .type('form')
      .set('Accept', 'text/html')
      .send({ csrf_token: csrf, name: '  ', scope: 'account' })
      .expect(400);
    expect(noName.text).toContain('Give the token a name');
    const badDays = await agent
      .post('/manage/account/token/')
      .type('form')
      .send({ csrf_token: csrf, name: 'x', scope: 'account', expires_days: 'soon' })
      .expect(400);
    expect(badDays.text).toContain('whole number of days');
    const noProjects = await agent
      .post('/manage/account/token/')
      .type('form')
      .send({ csrf_token: csrf, name: 'x', scope: 'projects', projects: '' })
      .expect(400);
    expect(noProjects.text).toContain('Name at least one project');
    // A project that does not exist and one without a role answer alike: names stay private.
    await createProject(t, 'someone-elses', (await createUser(t)).user);
    for (const projects of ['no-such-project', 'someone-elses']) {
      const refused = await agent
        .post('/manage/account/token/')
        .type('form')
        .send({ csrf_token: csrf, name: 'x', scope: 'projects', projects })
        .expect(400);
      expect(refused.text).toContain(`You have no role on a project named &quot;${projects}&quot;`);
    }
    expect(await t.dataSource.getRepository(ApiToken).countBy({ userId: carl.user.id })).toBe(0);
    await agent
      .post('/manage/account/token/')
      .type('form')
      .send({ name: 'no csrf', scope: 'account' })
      .expect(403);
  });

  it('refuses a revoked token with 403 naming the reason', async () => {
    const dora = await createUser(t);
    const { value, id } = await createToken(t, dora.user);
    const { agent, csrf } = await login(t, dora);
    await agent
      .post(`/manage/account/token/${id}/revoke`)
      .type('form')
      .send({ csrf_token: csrf })
      .expect(303);
    const res = await t
      .http()
      .get('/probe-auth/whoami')
      .set('Accept', 'application/json')
      .set('Authorization', basicAuth(value))
      .expect(403);
    expect(res.body.message).toMatch(/revoked/);
    const page = await agent.get('/manage/account/token/').expect(200);
    expect(page.text).toContain('revoked');
  });

  it('refuses an expired token with 403 naming the reason', async () => {
    const eve = await createUser(t);
    const { value, id } = await createToken(t, eve.user, { expiresInDays: 1 });
    await t
      .http()
      .get('/probe-auth/whoami')
      .set('Accept', 'application/json')
      .set('Authorization', basicAuth(value))
      .expect(200);
    await t.dataSource
      .getRepository(ApiToken)
      .update({ id }, { expiresAt: new Date(Date.now() - 1000) });
    const res = await t
      .http()
      .get('/probe-auth/whoami')
      .set('Accept', 'application/json')
      .set('Authorization', basicAuth(value))
      .expect(403);
    expect(res.body.message).toMatch(/expired/);
  });

  it('refuses an unknown or altered token with 403', async () => {
    const fay = await createUser(t);
    const { value } = await createToken(t, fay.user);
    const altered = value.slice(0, -1) + (value.endsWith('A') ? 'B' : 'A');
    for (const bad of [altered, 'larder-0000000000000000-' + 'x'.repeat(43), 'not-a-token']) {
      const res = await t
        .http()
        .get('/probe-auth/whoami')
        .set('Accept', 'application/json')
        .set('Authorization', basicAuth(bad))
        .expect(403);
      expect(res.body.message).toMatch(/Invalid API token/);
    }
  });

  it('does not let another user revoke my token (404) and leaves it working', async () => {
    const owner = await createUser(t);
    const other = await createUser(t);
    const { value, id } = await createToken(t, owner.user);
    const { agent, csrf } = await login(t, other);
    await agent
      .post(`/manage/account/token/${id}/revoke`)
      .type('form')
      .send({ csrf_token: csrf })
      .expect(404);
    await t
      .http()
      .get('/probe-auth/whoami')
      .set('Accept', 'application/json')
      .set('Authorization', basicAuth(value))
      .expect(200);
  });

  it("stops a disabled user's tokens", async () => {
    const gus = await createUser(t, { disabled: true });
    const { value } = await createToken(t, gus.user);
    const res = await t
      .http()
      .get('/probe-auth/whoami')
      .set('Accept', 'application/json')
      .set('Authorization', basicAuth(value))
      .expect(403);
    expect(res.body.message).toMatch(/disabled/);
  });

  it('keeps a project-scoped token to its projects, and an account-wide token to the roles of its owner', async () => {
    const hal = await createUser(t);
    await grantRole(t, 'alpha', hal.user, 'Maintainer');
    await grantRole(t, 'beta', hal.user, 'Owner');
    const scoped = await createToken(t, hal.user, { projects: ['Alpha'] });
    const wide = await createToken(t, hal.user);
    const upload = (project: string, token: string) =>
      t
        .http()
        .post(`/probe-auth/projects/${project}/upload`)
        .set('Accept', 'application/json')
        .set('Authorization', basicAuth(token));
    expect((await upload('alpha', scoped.value).expect(201)).body).toEqual({
      project: 'alpha',
      role: 'Maintainer',
    });
    const denied = await upload('beta', scoped.value).expect(403);
    expect(denied.body.message).toMatch(/limited to other projects/);
    await upload('beta', wide.value).expect(201);
    await upload('gamma', wide.value).expect(404);
    // No role on a project that exists: 403.
    const stranger = await createUser(t);
    const theirs = await createToken(t, stranger.user);
    await upload('alpha', theirs.value).expect(403);
    // Anonymous: 401 asking for Basic credentials.
    const anon = await t.http().post('/probe-auth/projects/alpha/upload').expect(401);
    expect(anon.headers['www-authenticate']).toBe('Basic realm="larder"');
  });

  it('lets session users act with their project role and asks for the owner role where needed', async () => {
    const ivy = await createUser(t);
    await grantRole(t, 'delta', ivy.user, 'Maintainer');
    const { agent, csrf } = await login(t, ivy);
    await agent.post('/probe-auth/projects/delta/upload').send({ csrf_token: csrf }).expect(201);
    await agent.post('/probe-auth/projects/delta/upload').send({}).expect(403);
    await agent.post('/probe-auth/projects/delta/settings').send({ csrf_token: csrf }).expect(403);
  });

  it('follows LARDER_READ_ACCESS=public for package reads', async () => {
    await t.http().get('/probe-auth/read').expect(200, { actor: 'anonymous' });
  });
});

describe('API tokens with LARDER_READ_ACCESS=authenticated', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      imports: [AuthProbeModule],
      env: { LARDER_READ_ACCESS: 'authenticated' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('asks anonymous readers for Basic credentials and accepts a token', async () => {
    const res = await t.http().get('/probe-auth/read').set('Accept', 'text/html').expect(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="larder"');
    const jo = await createUser(t);
    const { value } = await createToken(t, jo.user);
    await t
      .http()
      .get('/probe-auth/read')
      .set('Authorization', basicAuth(value))
      .expect(200, { actor: 'token' });
  });
});

describe('GET /api/v1/account', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('tells a token which account and scope it has, and a browser session who is signed in', async () => {
    const kim = await createUser(t, { username: 'Kim' });
    await createProject(t, 'Foo', kim.user);
    const { value, id } = await createToken(t, kim.user, { name: 'ci', projects: ['Foo'] });
    const res = await t
      .http()
      .get('/api/v1/account')
      .set('Authorization', basicAuth(value))
      .expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      username: 'Kim',
      isAdmin: false,
      authenticatedBy: 'token',
      token: { id, name: 'ci', projects: ['foo'], expiresAt: null },
    });
    const { agent } = await login(t, kim);
    expect((await agent.get('/api/v1/account').expect(200)).body).toMatchObject({
      username: 'Kim',
      authenticatedBy: 'session',
      token: null,
    });
    const anon = await t.http().get('/api/v1/account').expect(401);
    expect(anon.body).toEqual({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' });
    expect(anon.headers['www-authenticate']).toBe('Basic realm="larder"');
  });
});
