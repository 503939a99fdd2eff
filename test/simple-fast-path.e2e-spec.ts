import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { AppModule } from '../src/app.module.js';
import { runAsSystem } from '../src/context/request-context.js';
import { TokenService } from '../src/accounts/tokens/token.service.js';
import { createLogger } from '../src/ops/logger.js';
import { ReleaseService } from '../src/packages/release.service.js';
import { ProjectService } from '../src/projects/project.service.js';
import { finishApp, setupApp } from '../src/web/setup-app.js';
import { buildWheel } from './helpers/dists.js';
import { basicAuth, createToken, createUser, login, type TestUser } from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { upload } from './helpers/uploads.js';

// /simple/<name>/ is answered ahead of the generic pipeline (src/index-api/
// simple-fast-path.middleware.ts). These tests hold it to everything the generic pipeline did.

const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';

interface LogLine {
  msg: string;
  reqId?: string;
  route?: string;
  status?: number;
  actor?: string;
  url?: string;
}

/**
 * A second app node on the same database: its own Nest app, its own page cache. (One data
 * source between the two: embedded PGlite serves a single connection.)
 */
async function secondNode(t: TestApp): Promise<NestExpressApplication> {
  const logger = createLogger('silent', 2);
  const moduleRef = await Test.createTestingModule({
    imports: [
      AppModule.forRoot({
        config: t.config,
        dataSource: t.dataSource,
        logger,
        plugins: t.plugins,
      }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
  setupApp(app, t.config);
  await app.init();
  finishApp(app);
  return app;
}

describe('/simple/<name>/ ahead of the generic pipeline, on a public index', () => {
  let t: TestApp;
  let owner: TestUser;
  let token: string;
  const lines: LogLine[] = [];

  beforeAll(async () => {
    t = await createTestApp({
      env: { LARDER_LOG_LEVEL: 'info', LARDER_TRUSTED_PROXIES: '10.0.0.0/8' },
      logDestination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
    });
    owner = await createUser(t);
    token = (await createToken(t, owner.user)).value;
    const wheel = await buildWheel({ name: 'fast-pkg', version: '1.0' });
    await upload(t, wheel, 'fast-pkg', '1.0', { token }).expect(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  const requestLines = (reqId: string) =>
    lines.filter((l) => l.msg === 'request' && l.reqId === reqId);

  it('answers with the request id, security headers, one log line and a metrics sample', async () => {
    const res = await t.http().get('/simple/fast-pkg/').set('Accept', JSON_TYPE).expect(200);
    const reqId = res.headers['x-request-id'];
    expect(reqId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-type']).toBe(JSON_TYPE);
    expect(res.headers.vary).toBe('Accept, Authorization');
    expect(res.headers['cache-control']).toBe('public, max-age=60');
    // pip needs no cookie: the page comes without the sign-in form's CSRF cookie.
    expect(res.headers['set-cookie']).toBeUndefined();
    const logged = requestLines(reqId);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      route: '/simple/:name',
      status: 200,
      actor: 'anonymous',
      url: '/simple/fast-pkg/',
    });
    // The generic pipeline's 404 for an unknown project counts under the same route label.
    const missing = await t.http().get('/simple/no-such-pkg/').expect(404);
    expect(requestLines(missing.headers['x-request-id'])).toHaveLength(1);
    const metrics = await t.http().get('/metrics').expect(200);
    expect(metrics.text).toMatch(
      /larder_http_requests_total\{method="GET",route="\/simple\/:name",status="200"\} [1-9]/,
    );
    expect(metrics.text).toMatch(
      /larder_http_requests_total\{method="GET",route="\/simple\/:name",status="404"\} [1-9]/,
    );
  });

  it('answers 304 and HEAD as the controller does, per representation', async () => {
    const json = await t.http().get('/simple/fast-pkg/').set('Accept', JSON_TYPE).expect(200);
    const html = await t.http().get('/simple/fast-pkg/').expect(200);
    expect(json.headers.etag).not.toBe(html.headers.etag);
    await t
      .http()
      .get('/simple/fast-pkg/')
      .set('Accept', JSON_TYPE)
      .set('If-None-Match', `W/${json.headers.etag}, "other"`)
      .expect(304);
    await t.http().get('/simple/fast-pkg/').set('If-None-Match', json.headers.etag).expect(200);
    const head = await t.http().head('/simple/fast-pkg/').expect(200);
    expect(head.headers['content-length']).toBe(html.headers['content-length']);
    expect(head.headers.etag).toBe(html.headers.etag);
  });

  it('still redirects unnormalised names and the missing slash, and 404s unknown projects', async () => {
    await t.http().get('/simple/Fast_Pkg/').expect(301).expect('Location', '../fast-pkg/');
    await t.http().get('/simple/fast-pkg').expect(301).expect('Location', 'fast-pkg/');
    await t.http().get('/simple/fast--pkg/').expect(301);
    await t.http().get('/simple/other-pkg/').expect(404);
  });

  it('ignores a request id from a peer that is no trusted proxy, and logs the token that read', async () => {
    const res = await t
      .http()
      .get('/simple/fast-pkg/')
      .set('X-Forwarded-For', '203.0.113.7')
      .set('X-Request-Id', 'from-the-proxy')
      .set('Authorization', basicAuth(token))
      .expect(200);
    // supertest connects from 127.0.0.1, not a trusted proxy here: the id is ours.
    expect(res.headers['x-request-id']).not.toBe('from-the-proxy');
    const [line] = requestLines(res.headers['x-request-id']);
    expect(line).toMatchObject({ status: 200, actor: 'token' });
  });

  it('refuses a revoked token (403) as the guard always did on read routes', async () => {
    const { value, id } = await createToken(t, owner.user);
    await runAsSystem('test', () => t.app.get(TokenService).revoke(owner.user, id));
    const res = await t
      .http()
      .get('/simple/fast-pkg/')
      .set('Accept', 'application/json')
      .set('Authorization', basicAuth(value))
      .expect(403);
    expect(res.body.message).toMatch(/revoked/);
  });

  it('leaves a signed-in browser to the generic pipeline, which still knows who it is', async () => {
    const { agent } = await login(t, owner);
    const res = await agent.get('/simple/fast-pkg/').expect(200);
    const [line] = requestLines(res.headers['x-request-id']);
    expect(line).toMatchObject({ status: 200, actor: 'user' });
  });
});

describe('two app nodes on one database', () => {
  let t: TestApp;
  let other: NestExpressApplication;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp();
    other = await secondNode(t);
    const owner = await createUser(t);
    token = (await createToken(t, owner.user)).value;
    await upload(t, await buildWheel({ name: 'shared', version: '1.0' }), 'shared', '1.0', {
      token,
    }).expect(200);
  });
  afterAll(async () => {
    // The nodes share the data source: the second is closed first, the test app destroys it.
    await other?.close().catch(() => undefined);
    await t?.close();
  });

  const otherPage = (accept?: string) => {
    const req = request(other.getHttpServer()).get('/simple/shared/');
    return (accept ? req.set('Accept', accept) : req).expect(200);
  };

  it('shows on one node, at once, a file uploaded and a release yanked through the other', async () => {
    // The other node renders and caches both representations first.
    const before = await otherPage(JSON_TYPE);
    expect(before.text).not.toContain('shared-1.1');
    expect((await otherPage()).text).not.toContain('shared-1.1');
    const wheel = await buildWheel({ name: 'shared', version: '1.1' });
    await upload(t, wheel, 'shared', '1.1', { token }).expect(200);
    const after = await otherPage(JSON_TYPE);
    expect(after.text).toContain(wheel.filename);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    // Its client revalidating with the old ETag gets the new page, not a 304.
    await request(other.getHttpServer())
      .get('/simple/shared/')
      .set('Accept', JSON_TYPE)
      .set('If-None-Match', before.headers.etag)
      .expect(200);
    expect((await otherPage()).text).toContain(wheel.filename);

    const project = (await t.app.get(ProjectService).findByName('shared'))!;
    const releases = t.app.get(ReleaseService);
    const release = (await releases.find(project.id, '1.1'))!;
    await runAsSystem('test', () => releases.yank(project, release, 'bad build'));
    expect((await otherPage()).text).toContain('data-yanked="bad build"');
  });

  it('serves many concurrent readers the page committed before they asked', async () => {
    const wheel = await buildWheel({ name: 'shared', version: '1.2' });
    await upload(t, wheel, 'shared', '1.2', { token }).expect(200);
    const pages = await Promise.all(Array.from({ length: 20 }, () => otherPage(JSON_TYPE)));
    for (const page of pages) expect(page.text).toContain(wheel.filename);
  });
});

describe('/simple/<name>/ ahead of the generic pipeline, on a private index', () => {
  let t: TestApp;
  let token: string;
  let scoped: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { LARDER_READ_ACCESS: 'authenticated' } });
    const owner = await createUser(t);
    token = (await createToken(t, owner.user)).value;
    for (const name of ['mine', 'theirs']) {
      await upload(t, await buildWheel({ name, version: '1.0' }), name, '1.0', {
        token,
      }).expect(200);
    }
    scoped = (await createToken(t, owner.user, { projects: ['mine'] })).value;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('asks anonymous readers and non-Basic credentials for Basic credentials (401)', async () => {
    for (const auth of [undefined, 'Bearer something']) {
      const req = t.http().get('/simple/mine/');
      const res = await (auth ? req.set('Authorization', auth) : req).expect(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm=/);
    }
  });

  it('serves a token its pages privately, with 304 on revalidation', async () => {
    const page = await t
      .http()
      .get('/simple/mine/')
      .set('Accept', JSON_TYPE)
      .set('Authorization', basicAuth(token, 'pip'))
      .expect(200);
    expect(page.headers['cache-control']).toBe('private, max-age=60');
    await t
      .http()
      .get('/simple/mine/')
      .set('Accept', JSON_TYPE)
      .set('Authorization', basicAuth(token))
      .set('If-None-Match', page.headers.etag)
      .expect(304);
    // Revalidating without credentials is still refused.
    await t.http().get('/simple/mine/').set('If-None-Match', page.headers.etag).expect(401);
  });

  it("denies a project-scoped token another project's page (404), even once it is cached", async () => {
    await t.http().get('/simple/theirs/').set('Authorization', basicAuth(token)).expect(200);
    await t.http().get('/simple/mine/').set('Authorization', basicAuth(scoped)).expect(200);
    await t.http().get('/simple/theirs/').set('Authorization', basicAuth(scoped)).expect(404);
  });

  it('refuses an unknown token (403)', async () => {
    await t
      .http()
      .get('/simple/mine/')
      .set('Authorization', basicAuth('larder-0000000000000000-' + 'x'.repeat(43)))
      .expect(403);
  });
});
