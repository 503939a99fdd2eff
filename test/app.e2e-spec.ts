import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('the web shell', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers /healthz with 200 while the database answers', async () => {
    await t.http().get('/healthz').expect(200, { status: 'ok' });
  });
});
