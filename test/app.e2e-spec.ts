import { createTestApp, type TestApp } from './helpers/test-app.js';
import { ProbeModule } from './helpers/probe.module.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('the web shell', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ imports: [ProbeModule] });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers /healthz with 200 while the database answers', async () => {
    await t.http().get('/healthz').expect(200, { status: 'ok' });
  });

  it('gives every request an id, sent back as X-Request-Id and seen by the handler', async () => {
    const res = await t.http().get('/probe/context').set('User-Agent', 'pip/24.0').expect(200);
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(res.body).toMatchObject({
      requestId: res.headers['x-request-id'],
      ip: expect.stringMatching(/127\.0\.0\.1|::1/),
      userAgent: 'pip/24.0',
      route: 'GET /probe/context',
      actor: { kind: 'anonymous' },
    });
  });

  it('ignores X-Forwarded-For and X-Request-Id from clients that are not trusted proxies', async () => {
    const res = await t
      .http()
      .get('/probe/context')
      .set('X-Forwarded-For', '198.51.100.7')
      .set('X-Request-Id', 'forged-id')
      .expect(200);
    expect(res.body.ip).not.toBe('198.51.100.7');
    expect(res.body.requestId).toMatch(UUID);
  });

  it('renders the home page inside the layout, signed out', async () => {
    const res = await t
      .http()
      .get('/')
      .expect(200)
      .expect('Content-Type', /text\/html/);
    expect(res.text).toContain('<header class="site-header">');
    expect(res.text).toContain('href="/account/login/"');
    expect(res.text).toContain('pip install --index-url http://127.0.0.1:8080/simple/');
  });

  it('sends security headers with a CSP that allows no inline script', async () => {
    const res = await t.http().get('/').expect(200);
    const csp: string = res.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('serves static assets', async () => {
    await t
      .http()
      .get('/static/css/larder.css')
      .expect(200)
      .expect('Content-Type', /text\/css/);
  });

  it('answers an unknown page with the HTML 404 page', async () => {
    const res = await t.http().get('/no/such/page').set('Accept', 'text/html').expect(404);
    expect(res.text).toContain('404 · Page not found');
    expect(res.text).toContain('<header class="site-header">');
  });

  it('answers an unknown API route with JSON', async () => {
    const res = await t.http().get('/api/v1/nothing').expect(404);
    expect(res.body).toEqual({
      code: 'NOT_FOUND',
      message: expect.stringContaining('/api/v1/nothing'),
    });
  });

  it('refuses a malformed JSON body with 400 and no stack', async () => {
    const res = await t
      .http()
      .post('/probe/echo')
      .set('Content-Type', 'application/json')
      .set('Accept', 'application/json')
      .send('{"name": ')
      .expect(400);
    expect(res.body).toEqual({
      code: 'BAD_REQUEST',
      message: 'the request body is not valid JSON',
    });
  });

  it('refuses an invalid body with 400 naming each field', async () => {
    const res = await t
      .http()
      .post('/probe/echo')
      .set('Accept', 'application/json')
      .send({ name: '', count: 'many', extra: 1 })
      .expect(400);
    expect(res.body.message).toContain('name must be longer than or equal to 1 characters');
    expect(res.body.message).toContain('count must be an integer number');
    expect(res.body.message).toContain('property extra should not exist');
  });

  it('answers an internal error with a bare 500 page: no message, no stack', async () => {
    const res = await t.http().get('/probe/boom').set('Accept', 'text/html').expect(500);
    expect(res.text).toContain('Something went wrong');
    expect(res.text).not.toContain('hunter2');
    expect(res.text).not.toMatch(/\.ts:\d+/);
    const json = await t.http().get('/probe/boom').set('Accept', 'application/json').expect(500);
    expect(json.body).toEqual({
      code: 'INTERNAL_SERVER_ERROR',
      message: 'Something went wrong on our side.',
    });
  });

  it('counts requests by route pattern and status in /metrics', async () => {
    await t.http().get('/healthz').expect(200);
    await t.http().get('/no/such/page').expect(404);
    const res = await t
      .http()
      .get('/metrics')
      .expect(200)
      .expect('Content-Type', /text\/plain/);
    expect(res.text).toMatch(
      /larder_http_requests_total\{method="GET",route="\/healthz",status="200"\} [1-9]/,
    );
    expect(res.text).toMatch(
      /larder_http_requests_total\{method="GET",route="unmatched",status="404"\} [1-9]/,
    );
    expect(res.text).toContain('larder_http_request_duration_seconds_bucket');
    expect(res.text).not.toContain('/no/such/page');
  });
});

describe('behind a trusted proxy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      imports: [ProbeModule],
      env: { LARDER_TRUSTED_PROXIES: '127.0.0.1, ::1', LARDER_METRICS_TOKEN: 'metrics-secret' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('takes the client address and request id from the proxy', async () => {
    const res = await t
      .http()
      .get('/probe/context')
      .set('X-Forwarded-For', '198.51.100.7')
      .set('X-Request-Id', 'proxy-req-42')
      .expect(200);
    expect(res.body.ip).toBe('198.51.100.7');
    expect(res.body.requestId).toBe('proxy-req-42');
    expect(res.headers['x-request-id']).toBe('proxy-req-42');
  });

  it('asks for the bearer token on /metrics when one is configured', async () => {
    await t.http().get('/metrics').expect(401);
    await t.http().get('/metrics').set('Authorization', 'Bearer wrong').expect(401);
    await t.http().get('/metrics').set('Authorization', 'Bearer metrics-secret').expect(200);
  });

  it('answers /healthz with 503 once the database is gone', async () => {
    await t.dataSource.destroy();
    const res = await t.http().get('/healthz').set('Accept', 'application/json').expect(503);
    expect(res.body).toEqual({ code: 'SERVICE_UNAVAILABLE', message: 'database unavailable' });
  });
});
