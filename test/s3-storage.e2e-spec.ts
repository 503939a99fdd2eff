import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { buildWheel } from './helpers/dists.js';
import { createToken, createUser } from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { upload } from './helpers/uploads.js';

/** The whole index on LARDER_STORAGE=s3, against s3rver started by the test. */
describe('the index on S3 storage', () => {
  let dir: string;
  let server: S3rver;
  let t: TestApp;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'larder-s3-e2e-'));
    server = new S3rver({ port: 0, address: '127.0.0.1', directory: dir, silent: true });
    const { port } = (await server.run()) as AddressInfo;
    const endpoint = `http://127.0.0.1:${port}`;
    // The app takes credentials from the AWS SDK chain, as in production: here, the environment.
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    const admin = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    await admin.send(new CreateBucketCommand({ Bucket: 'larder-e2e' }));
    admin.destroy();
    t = await createTestApp({
      env: {
        LARDER_STORAGE: 's3',
        LARDER_S3_BUCKET: 'larder-e2e',
        LARDER_S3_ENDPOINT: endpoint,
        LARDER_S3_REGION: 'us-east-1',
        LARDER_S3_FORCE_PATH_STYLE: 'true',
        LARDER_S3_PREFIX: 'packages',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
    process.env.AWS_ACCESS_KEY_ID = saved.id;
    process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  });

  it('uploads, lists, serves ranges and PEP 658 metadata from the bucket', async () => {
    const token = (await createToken(t, (await createUser(t)).user)).value;
    const wheel = await buildWheel({ name: 'cloudy', version: '1.0' });
    await upload(t, wheel, 'cloudy', '1.0', { token }).expect(200);
    await upload(t, wheel, 'cloudy', '1.0', { token }).expect(200);
    const page = await t
      .http()
      .get('/simple/cloudy/')
      .set('Accept', 'application/vnd.pypi.simple.v1+json')
      .expect(200);
    const url = JSON.parse(page.text).files[0].url.replace('../../', '/');
    const size = wheel.bytes.length;
    const tail = await t
      .http()
      .get(url)
      .set('Range', 'bytes=-10')
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      })
      .expect(206);
    expect(Buffer.compare(tail.body as Buffer, wheel.bytes.subarray(size - 10))).toBe(0);
    const metadata = await t.http().get(`${url}.metadata`).expect(200);
    expect(metadata.text).toBe(wheel.metadata!.toString());
  });

  it('removes the bytes from the bucket when the upload is refused after storing them', async () => {
    const token = (await createToken(t, (await createUser(t)).user)).value;
    const bad = await buildWheel({ name: 'cloudy2', version: '1.0', metadata: null });
    await upload(t, bad, 'cloudy2', '1.0', { token }).expect(400);
    const { STORAGE } = await import('../src/storage/storage.module.js');
    const storage = t.app.get(STORAGE);
    const keys: string[] = [];
    for await (const blob of storage.list()) keys.push(blob.key);
    expect(keys.some((k: string) => k.includes('cloudy2'))).toBe(false);
  });
});
