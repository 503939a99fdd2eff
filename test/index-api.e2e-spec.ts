import { createHash } from 'node:crypto';
import { runAsSystem } from '../src/context/request-context.js';
import { ReleaseService } from '../src/packages/release.service.js';
import { ProjectService } from '../src/projects/project.service.js';
import { buildSdist, buildWheel, type Dist } from './helpers/dists.js';
import { basicAuth, createToken, createUser, type TestUser } from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { upload } from './helpers/uploads.js';

const PIP_ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';

describe('the simple API, files and the JSON API', () => {
  let t: TestApp;
  let owner: TestUser;
  let token: string;
  let wheel: Dist;
  let sdist: Dist;
  let yankedWheel: Dist;

  beforeAll(async () => {
    t = await createTestApp();
    owner = await createUser(t);
    token = (await createToken(t, owner.user)).value;
    wheel = await buildWheel({
      name: 'Demo_Pkg',
      version: '1.0',
      headers: ['Requires-Python: >=3.8'],
    });
    sdist = await buildSdist({ name: 'Demo_Pkg', version: '1.0' });
    yankedWheel = await buildWheel({ name: 'Demo_Pkg', version: '0.9' });
    const fields = { requires_python: '>=3.8' };
    await upload(t, wheel, 'Demo_Pkg', '1.0', { token, fields }).expect(200);
    await upload(t, sdist, 'Demo_Pkg', '1.0', { token, fields }).expect(200);
    await upload(t, yankedWheel, 'Demo_Pkg', '0.9', { token }).expect(200);
    const project = (await t.app.get(ProjectService).findByName('demo-pkg'))!;
    const releases = t.app.get(ReleaseService);
    const release = (await releases.find(project.id, '0.9'))!;
    await runAsSystem('test', () => releases.yank(project, release, 'broken "build" <oops>'));
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('/simple/<name>/', () => {
    it('answers pip with PEP 691 JSON: exact Content-Type, Vary, PEP 700/592/658 fields', async () => {
      const res = await t.http().get('/simple/demo-pkg/').set('Accept', PIP_ACCEPT).expect(200);
      expect(res.headers['content-type']).toBe(JSON_TYPE);
      expect(res.headers.vary).toMatch(/Accept/);
      const body = JSON.parse(res.text);
      expect(body.meta).toEqual({ 'api-version': '1.1' });
      expect(body.name).toBe('demo-pkg');
      expect(body.versions).toEqual(['0.9', '1.0']);
      const byName = Object.fromEntries(
        body.files.map((f: { filename: string }) => [f.filename, f]),
      );
      const w = byName[wheel.filename];
      expect(w).toMatchObject({
        hashes: { sha256: wheel.sha256 },
        'requires-python': '>=3.8',
        size: wheel.bytes.length,
        yanked: false,
        'core-metadata': { sha256: createHash('sha256').update(wheel.metadata!).digest('hex') },
      });
      expect(w.url).toMatch(
        /^\.\.\/\.\.\/files\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}\/demo_pkg-1\.0-py3-none-any\.whl$/,
      );
      expect(w['upload-time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/);
      expect(w).not.toHaveProperty('dist-info-metadata');
      expect(byName[sdist.filename]['core-metadata']).toBe(false);
      expect(byName[yankedWheel.filename].yanked).toBe('broken "build" <oops>');
    });

    it('answers HTML by default, with escaped attributes and PEP 714 metadata attributes', async () => {
      const res = await t.http().get('/simple/demo-pkg/').expect(200);
      expect(res.headers['content-type']).toBe('text/html');
      const html = res.text;
      expect(html).toContain('<meta name="pypi:repository-version" content="1.1">');
      expect(html).toContain(`#sha256=${wheel.sha256}" data-requires-python="&gt;=3.8"`);
      expect(html).toContain('data-yanked="broken &quot;build&quot; &lt;oops&gt;"');
      const meta = createHash('sha256').update(wheel.metadata!).digest('hex');
      expect(html).toContain(
        `data-dist-info-metadata="sha256=${meta}" data-core-metadata="sha256=${meta}">${wheel.filename}</a>`,
      );
      const v1 = await t
        .http()
        .get('/simple/demo-pkg/')
        .set('Accept', 'application/vnd.pypi.simple.v1+html')
        .expect(200);
      expect(v1.headers['content-type']).toBe('application/vnd.pypi.simple.v1+html');
    });

    it('redirects unnormalised names and the missing slash with 301; unknown projects are 404', async () => {
      expect((await t.http().get('/simple/Demo_Pkg/').expect(301)).headers.location).toBe(
        '../demo-pkg/',
      );
      expect((await t.http().get('/simple/Demo.Pkg').expect(301)).headers.location).toBe(
        'demo-pkg/',
      );
      expect((await t.http().get('/simple/demo-pkg').expect(301)).headers.location).toBe(
        'demo-pkg/',
      );
      expect((await t.http().get('/simple').expect(301)).headers.location).toBe('simple/');
      await t.http().get('/simple/nope/').expect(404);
    });

    it('answers If-None-Match with 304, per representation', async () => {
      const first = await t.http().get('/simple/demo-pkg/').set('Accept', JSON_TYPE).expect(200);
      const etag = first.headers.etag;
      await t
        .http()
        .get('/simple/demo-pkg/')
        .set('Accept', JSON_TYPE)
        .set('If-None-Match', etag)
        .expect(304);
      await t
        .http()
        .get('/simple/demo-pkg/')
        .set('Accept', 'text/html')
        .set('If-None-Match', etag)
        .expect(200);
    });

    it('lists projects at /simple/ in HTML and JSON', async () => {
      const html = await t.http().get('/simple/').expect(200);
      expect(html.text).toContain('<a href="demo-pkg/">Demo_Pkg</a>');
      const json = await t.http().get('/simple/').set('Accept', JSON_TYPE).expect(200);
      expect(JSON.parse(json.text).projects).toEqual([{ name: 'Demo_Pkg' }]);
    });
  });

  describe('files', () => {
    async function fileUrl(filename: string): Promise<string> {
      const res = await t.http().get('/simple/demo-pkg/').set('Accept', JSON_TYPE);
      const file = JSON.parse(res.text).files.find(
        (f: { filename: string }) => f.filename === filename,
      );
      return `/simple/demo-pkg/${file.url}`.replace('/simple/demo-pkg/../../', '/');
    }

    it('serves the bytes with Content-Length, ETag, immutable caching and no Content-Encoding', async () => {
      const url = await fileUrl(wheel.filename);
      const res = await t
        .http()
        .get(url)
        .buffer(true)
        .parse((r, cb) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => cb(null, Buffer.concat(chunks)));
        })
        .expect(200);
      expect(Buffer.compare(res.body as Buffer, wheel.bytes)).toBe(0);
      expect(res.headers['content-length']).toBe(String(wheel.bytes.length));
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(res.headers['cache-control']).toContain('immutable');
      expect(res.headers['accept-ranges']).toBe('bytes');
      await t.http().get(url).set('If-None-Match', res.headers.etag).expect(304);
    });

    it('answers HEAD and Range (206, suffix ranges, 416)', async () => {
      const url = await fileUrl(wheel.filename);
      const head = await t.http().head(url).expect(200);
      expect(head.headers['content-length']).toBe(String(wheel.bytes.length));
      const size = wheel.bytes.length;
      const tail = await t
        .http()
        .get(url)
        .set('Range', 'bytes=-22')
        .buffer(true)
        .parse((r, cb) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => cb(null, Buffer.concat(chunks)));
        })
        .expect(206);
      expect(tail.headers['content-range']).toBe(`bytes ${size - 22}-${size - 1}/${size}`);
      expect(Buffer.compare(tail.body as Buffer, wheel.bytes.subarray(size - 22))).toBe(0);
      await t.http().get(url).set('Range', `bytes=${size}-`).expect(416);
    });

    it('serves the PEP 658 metadata at <file url>.metadata, hashing as advertised', async () => {
      const url = await fileUrl(wheel.filename);
      const res = await t.http().get(`${url}.metadata`).expect(200);
      expect(res.text).toBe(wheel.metadata!.toString());
      const wrongDir = url.replace(/\/[0-9a-f]{64}\//, `/${'0'.repeat(64)}/`);
      await t.http().get(wrongDir).expect(404);
    });
  });

  describe('the JSON API', () => {
    it("answers /pypi/<name>/json in PyPI's shape, the latest non-yanked release first", async () => {
      const res = await t.http().get('/pypi/demo-pkg/json').expect(200);
      expect(res.headers['content-type']).toBe('application/json');
      const body = JSON.parse(res.text);
      expect(body.info).toMatchObject({
        name: 'Demo_Pkg',
        version: '1.0',
        requires_python: '>=3.8',
        yanked: false,
      });
      expect(Object.keys(body.releases)).toEqual(['0.9', '1.0']);
      expect(body.releases['0.9'][0]).toMatchObject({
        yanked: true,
        yanked_reason: 'broken "build" <oops>',
      });
      expect(body.urls.map((u: { filename: string }) => u.filename).sort()).toEqual(
        [sdist.filename, wheel.filename].sort(),
      );
      expect(
        body.urls.find((u: { filename: string }) => u.filename === wheel.filename),
      ).toMatchObject({
        packagetype: 'bdist_wheel',
        python_version: 'py3',
        digests: { sha256: wheel.sha256, md5: wheel.md5, blake2b_256: wheel.blake2b256 },
      });
      expect(body.vulnerabilities).toEqual([]);
      expect(typeof body.last_serial).toBe('number');
      expect(body.ownership.roles).toEqual([{ role: 'Owner', user: owner.username }]);
    });

    it('answers /pypi/<name>/<version>/json by any spelling of the version, redirects names', async () => {
      const body = JSON.parse((await t.http().get('/pypi/demo-pkg/1.0.0/json').expect(200)).text);
      expect(body.info.version).toBe('1.0');
      expect(body).not.toHaveProperty('releases');
      expect((await t.http().get('/pypi/Demo_Pkg/json').expect(301)).headers.location).toBe(
        '../demo-pkg/json',
      );
      await t.http().get('/pypi/demo-pkg/7.0/json').expect(404);
      await t.http().get('/pypi/nope/json').expect(404);
    });
  });

  describe('the public project page', () => {
    it('shows summary, install command and files with hashes; the description renders safely', async () => {
      const evil = await buildWheel({ name: 'shiny', version: '1.0' });
      await upload(t, evil, 'shiny', '1.0', {
        token,
        fields: {
          description: '# Shiny\n\n<script>alert(1)</script> [x](javascript:alert(1))',
          description_content_type: 'text/markdown',
        },
      }).expect(200);
      const res = await t.http().get('/project/shiny/').expect(200);
      expect(res.text).toContain('<h1>Shiny</h1>');
      expect(res.text).toContain(evil.sha256);
      expect(res.text).toContain('pip install --index-url');
      expect(res.text).not.toContain('<script>alert');
      expect(res.text).not.toContain('href="javascript:');
    });
  });
});

describe('a private index (LARDER_READ_ACCESS=authenticated)', () => {
  let t: TestApp;
  let token: string;
  let scoped: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { LARDER_READ_ACCESS: 'authenticated' } });
    const owner = await createUser(t);
    token = (await createToken(t, owner.user)).value;
    await upload(t, await buildWheel({ name: 'secret', version: '1.0' }), 'secret', '1.0', {
      token,
    }).expect(200);
    await upload(t, await buildWheel({ name: 'other', version: '1.0' }), 'other', '1.0', {
      token,
    }).expect(200);
    scoped = (await createToken(t, owner.user, { projects: ['other'] })).value;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('asks anonymous readers for Basic credentials (401 + WWW-Authenticate), so pip retries', async () => {
    for (const path of ['/simple/', '/simple/secret/', '/pypi/secret/json']) {
      const res = await t.http().get(path).expect(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm=/);
    }
  });

  it('serves readers with a token (any username, as pip sends it from the index URL)', async () => {
    await t
      .http()
      .get('/simple/secret/')
      .set('Authorization', basicAuth(token, 'someone'))
      .expect(200);
  });

  it('lets a project-scoped token read only its projects', async () => {
    const auth = basicAuth(scoped);
    const list = await t.http().get('/simple/').set('Authorization', auth).expect(200);
    expect(list.text).toContain('other');
    expect(list.text).not.toContain('secret');
    await t.http().get('/simple/other/').set('Authorization', auth).expect(200);
    await t.http().get('/simple/secret/').set('Authorization', auth).expect(404);
    await t.http().get('/pypi/secret/json').set('Authorization', auth).expect(404);
    const page = await t
      .http()
      .get('/simple/secret/')
      .set('Accept', JSON_TYPE)
      .set('Authorization', basicAuth(token));
    const url = JSON.parse(page.text).files[0].url.replace('../../', '/');
    await t.http().get(url).set('Authorization', auth).expect(404);
    await t.http().get(url).set('Authorization', basicAuth(token)).expect(200);
    await t.http().get(url).expect(401);
  });
});
