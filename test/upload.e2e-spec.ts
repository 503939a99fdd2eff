import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FilenameRegistry } from '../src/packages/filename-registry.entity.js';
import { ReleaseFile } from '../src/packages/release-file.entity.js';
import { Release } from '../src/packages/release.entity.js';
import { Project } from '../src/projects/project.entity.js';
import { Role } from '../src/projects/role.entity.js';
import { buildSdist, buildWheel, finish, type Dist } from './helpers/dists.js';
import { basicAuth, createToken, createUser, type TestUser } from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { rawMultipart, statusMessage, twineFields, upload } from './helpers/uploads.js';

describe('the upload API (POST /legacy/)', () => {
  let t: TestApp;
  let alice: TestUser;
  let aliceToken: string;
  let bob: TestUser;
  let bobToken: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { LARDER_MAX_UPLOAD_MB: '3' } });
    alice = await createUser(t);
    aliceToken = (await createToken(t, alice.user)).value;
    bob = await createUser(t);
    bobToken = (await createToken(t, bob.user)).value;
  });
  afterAll(async () => {
    await t?.close();
  });

  async function storedFiles(): Promise<string[]> {
    const root = join(t.config.dataDir, 'files');
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  }

  async function counts() {
    const m = t.dataSource.manager;
    return {
      projects: await m.count(Project),
      releases: await m.count(Release),
      files: await m.count(ReleaseFile),
      blobs: (await storedFiles()).length,
    };
  }

  /** Runs `act` and checks it left no row and no stored byte behind. */
  async function leavesNothing(act: () => Promise<unknown>) {
    const before = await counts();
    await act();
    expect(await counts()).toEqual(before);
  }

  it('creates the project with the uploader as Owner, the release and the file: 200, empty body', async () => {
    const wheel = await buildWheel({ name: 'Demo.Pkg', version: '1.0.0' });
    const res = await upload(t, wheel, 'Demo.Pkg', '1.0.0', { token: aliceToken }).expect(200);
    expect(res.text).toBe('');
    const project = await t.dataSource.manager.findOneByOrFail(Project, {
      normalizedName: 'demo-pkg',
    });
    expect(project.name).toBe('Demo.Pkg');
    const role = await t.dataSource.manager.findOneByOrFail(Role, { projectId: project.id });
    expect(role).toMatchObject({ userId: alice.user.id, roleName: 'Owner' });
    const file = await t.dataSource.manager.findOneByOrFail(ReleaseFile, {
      filename: wheel.filename,
    });
    expect(file).toMatchObject({
      sha256: wheel.sha256,
      md5: wheel.md5,
      blake2b256: wheel.blake2b256,
      size: wheel.bytes.length,
      packagetype: 'bdist_wheel',
      pythonVersion: 'py3',
    });
    expect(file.metadataSha256).toMatch(/^[0-9a-f]{64}$/);
    const release = await t.dataSource.manager.findOneByOrFail(Release, { id: file.releaseId });
    expect(release).toMatchObject({ version: '1.0.0', canonicalVersion: '1' });
  });

  it('treats 1.0 and 1.0.0 as one release, and names equal after normalisation as one project', async () => {
    const sdist = await buildSdist({ name: 'demo_pkg', version: '1.0' });
    await upload(t, sdist, 'demo_pkg', '1.0', { token: aliceToken }).expect(200);
    const project = await t.dataSource.manager.findOneByOrFail(Project, {
      normalizedName: 'demo-pkg',
    });
    expect(await t.dataSource.manager.countBy(Release, { projectId: project.id })).toBe(1);
    expect(await t.dataSource.manager.countBy(ReleaseFile, { projectId: project.id })).toBe(2);
  });

  it('answers 200 to an identical re-upload and writes nothing', async () => {
    const wheel = await buildWheel({ name: 'Demo.Pkg', version: '1.0.0' });
    await leavesNothing(() =>
      upload(t, wheel, 'Demo.Pkg', '1.0.0', { token: aliceToken }).expect(200, ''),
    );
  });

  it('refuses the same filename with other bytes: 400 File already exists, in the reason phrase', async () => {
    const other = await buildWheel({ name: 'Demo.Pkg', version: '1.0.0', description: 'changed' });
    await leavesNothing(async () => {
      const res = await upload(t, other, 'Demo.Pkg', '1.0.0', { token: aliceToken }).expect(400);
      expect(statusMessage(res)).toMatch(
        /^File already exists \('demo_pkg-1\.0\.0-py3-none-any\.whl'/,
      );
      expect(res.body.message).toMatch(/^File already exists/);
    });
  });

  it('accepts /legacy without the slash, without a redirect', async () => {
    const wheel = await buildWheel({ name: 'demo-pkg', version: '1.1' });
    await upload(t, wheel, 'demo-pkg', '1.1', { token: aliceToken, path: '/legacy' }).expect(200);
  });

  it('answers 401 with WWW-Authenticate without credentials, 403 for a bad token', async () => {
    const wheel = await buildWheel({ name: 'nobody', version: '1.0' });
    await leavesNothing(async () => {
      const res = await upload(t, wheel, 'nobody', '1.0').expect(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic/);
      await upload(t, wheel, 'nobody', '1.0', { token: 'larder-nope-nope' }).expect(403);
    });
  });

  it("refuses another user's project: 403 naming the user and the project", async () => {
    const wheel = await buildWheel({ name: 'demo-pkg', version: '9.0' });
    await leavesNothing(async () => {
      const res = await upload(t, wheel, 'demo-pkg', '9.0', { token: bobToken }).expect(403);
      expect(statusMessage(res)).toContain(
        `The user '${bob.username}' isn't allowed to upload to project 'Demo.Pkg'`,
      );
    });
  });

  it('lets a project-scoped token upload to its project only, and never create another', async () => {
    const scoped = (await createToken(t, alice.user, { projects: ['demo-pkg'] })).value;
    await upload(t, await buildWheel({ name: 'demo-pkg', version: '2.0' }), 'demo-pkg', '2.0', {
      token: scoped,
    }).expect(200);
    const other = await buildWheel({ name: 'brand-new', version: '1.0' });
    await leavesNothing(async () => {
      const res = await upload(t, other, 'brand-new', '1.0', { token: scoped }).expect(403);
      expect(statusMessage(res)).toContain(
        "The given token isn't allowed to upload to project 'brand-new'",
      );
    });
  });

  describe('refuses bad input with a precise 4xx and leaves nothing behind', () => {
    let wheel: Dist;
    beforeAll(async () => {
      wheel = await buildWheel({ name: 'fresh', version: '1.0' });
    });

    it.each([
      ['an unknown action', { ':action': 'dance' }, 400, "Unknown or missing ':action'"],
      [
        'project pre-registration',
        { ':action': 'submit' },
        410,
        'Project pre-registration is no longer required',
      ],
      ['a wrong protocol version', { protocol_version: '2' }, 400, 'Unknown protocol version.'],
      [
        'a missing metadata version',
        { metadata_version: undefined },
        400,
        "'metadata_version' is a required field.",
      ],
      [
        'a bad metadata version',
        { metadata_version: '9.9' },
        400,
        "'9.9' is not a valid metadata version.",
      ],
      ['an invalid name', { name: 'fresh-' }, 400, "'fresh-' is an invalid value for Name."],
      ['an invalid version', { version: 'dog' }, 400, "'dog' is invalid for 'version'."],
      [
        'a local version',
        { version: '1.0+local' },
        400,
        "The use of local versions in '1.0+local' is not allowed.",
      ],
      [
        'an unknown file type',
        { filetype: 'bdist_egg' },
        400,
        'Invalid value for filetype. Error: Use a known file type.',
      ],
      [
        'no pyversion for a wheel',
        { pyversion: '' },
        400,
        'Python version is required for binary distribution uploads.',
      ],
      [
        'no digest at all',
        { md5_digest: undefined, sha256_digest: undefined, blake2_256_digest: undefined },
        400,
        'Error: Include at least one message digest.',
      ],
      ['a malformed sha256', { sha256_digest: 'abc' }, 400, 'Invalid value for sha256_digest.'],
      [
        'a wrong sha256',
        { sha256_digest: '0'.repeat(64) },
        400,
        'The digest supplied does not match a digest calculated from the uploaded file.',
      ],
      ['a wrong md5', { md5_digest: '0'.repeat(32) }, 400, 'The digest supplied does not match'],
      [
        'a wrong blake2',
        { blake2_256_digest: 'f'.repeat(64) },
        400,
        'The digest supplied does not match',
      ],
      [
        'a name that does not match the file',
        { name: 'other' },
        400,
        "Start filename for 'other' with 'other'.",
      ],
      [
        'a version that does not match the file',
        { version: '2.0' },
        400,
        "Version in filename should be '2.0' not '1.0'.",
      ],
      ['a multi-line summary', { summary: 'a\nb' }, 400, "'summary' must be a single line."],
      [
        'an invalid Requires-Python',
        { requires_python: '>=3.8;' },
        400,
        "'>=3.8;' is invalid for 'requires_python'.",
      ],
    ])('%s', async (_what, fields, status, message) => {
      await leavesNothing(async () => {
        const res = await upload(t, wheel, 'fresh', '1.0', { token: aliceToken, fields }).expect(
          status,
        );
        expect(res.body.message).toContain(message);
        expect(statusMessage(res)).toContain(message.slice(0, 40));
      });
    });

    it.each([
      [
        'a path separator',
        'dir/fresh-1.0-py3-none-any.whl',
        "Cannot upload a file with '/' or '\\' in the name.",
      ],
      [
        'a backslash',
        '..\\fresh-1.0-py3-none-any.whl',
        "Cannot upload a file with '/' or '\\' in the name.",
      ],
      ['a dot-dot name', '..', "may not start with '.'"],
      ['an egg', 'fresh-1.0-py3.egg', 'Invalid file extension'],
    ])('a filename with %s', async (_what, filename, message) => {
      // By hand: supertest would cut the filename down to its basename.
      const { body, contentType } = rawMultipart(twineFields(wheel, 'fresh', '1.0'), {
        filename,
        bytes: wheel.bytes,
      });
      await leavesNothing(async () => {
        const res = await t
          .http()
          .post('/legacy/')
          .set('Authorization', basicAuth(aliceToken))
          .set('Content-Type', contentType)
          .send(body)
          .expect(400);
        expect(res.body.message).toContain(message);
      });
    });

    it('a missing file part', async () => {
      await leavesNothing(async () => {
        const res = await upload(t, wheel, 'fresh', '1.0', {
          token: aliceToken,
          noFile: true,
        }).expect(400);
        expect(res.body.message).toBe('Upload payload does not have a file.');
      });
    });

    it('an image instead of a distribution', async () => {
      await leavesNothing(() =>
        upload(t, wheel, 'fresh', '1.0', { token: aliceToken, contentType: 'image/png' }).expect(
          400,
        ),
      );
    });

    it('a body that is not multipart, and a malformed one', async () => {
      await t
        .http()
        .post('/legacy/')
        .set('Authorization', `Basic ${Buffer.from(`__token__:${aliceToken}`).toString('base64')}`)
        .send({ a: 1 })
        .expect(400);
      await leavesNothing(() =>
        t
          .http()
          .post('/legacy/')
          .set(
            'Authorization',
            `Basic ${Buffer.from(`__token__:${aliceToken}`).toString('base64')}`,
          )
          .set('Content-Type', 'multipart/form-data; boundary=zz')
          .send('--zz\r\nContent-Disposition: form-data; name="name"\r\n\r\nfresh')
          .expect(400),
      );
    });

    it('a wheel without METADATA, a wheel whose METADATA disagrees, a huge METADATA, not a zip', async () => {
      const cases: [Dist, string][] = [
        [
          await buildWheel({ name: 'fresh', version: '1.0', metadata: null }),
          'does not contain the required METADATA file',
        ],
        [
          await buildWheel({
            name: 'fresh',
            version: '1.0',
            metadata: 'Metadata-Version: 2.1\nName: other\nVersion: 1.0\n',
          }),
          "The name in fresh-1.0.dist-info/METADATA ('other') does not match",
        ],
        [
          await buildWheel({
            name: 'fresh',
            version: '1.0',
            metadata: 'Metadata-Version: 2.1\nName: fresh\nVersion: 1.1\n',
          }),
          "The version in fresh-1.0.dist-info/METADATA ('1.1') does not match",
        ],
        [
          await buildWheel({
            name: 'fresh',
            version: '1.0',
            metadata: Buffer.alloc(5 * 1024 * 1024, 65),
          }),
          'larger than 4 MiB',
        ],
        [await finish(wheel.filename, Buffer.from('not a zip'), null), 'File is not a zipfile'],
        [
          await buildWheel({
            name: 'fresh',
            version: '1.0',
            metadata: Buffer.from([0x4e, 0x61, 0x6d, 0x65, 0x3a, 0xff, 0x0a]),
          }),
          'not valid UTF-8',
        ],
      ];
      for (const [dist, message] of cases) {
        await leavesNothing(async () => {
          const res = await upload(t, dist, 'fresh', '1.0', { token: aliceToken }).expect(400);
          expect(res.body.message).toContain(message);
        });
      }
    });

    it('a file over LARDER_MAX_UPLOAD_MB: 413, read to the end so twine gets the answer', async () => {
      const big = await buildWheel({
        name: 'fresh',
        version: '1.0',
        // Random bytes do not compress: the wheel stays over 3 MB.
        extra: { 'fresh/blob.bin': (await import('node:crypto')).randomBytes(3_200_000) },
      });
      await leavesNothing(async () => {
        const res = await upload(t, big, 'fresh', '1.0', { token: aliceToken }).expect(413);
        expect(res.body.message).toBe('File too large. Limit is 3 MB.');
      });
    });

    it('an oversized field', async () => {
      await leavesNothing(() =>
        upload(t, wheel, 'fresh', '1.0', {
          token: aliceToken,
          fields: { description: 'x'.repeat(5 * 1024 * 1024) },
        }).expect(400),
      );
    });
  });

  it('accepts a legacy sdist name (acme-widgets-1.0.tar.gz) and only one sdist per release', async () => {
    const legacy = await buildSdist({
      name: 'acme-widgets',
      version: '1.0',
      filename: 'acme-widgets-1.0.tar.gz',
    });
    await upload(t, legacy, 'acme-widgets', '1.0', { token: aliceToken }).expect(200);
    const second = await buildSdist({ name: 'acme-widgets', version: '1.0', format: 'zip' });
    await leavesNothing(async () => {
      const res = await upload(t, second, 'acme-widgets', '1.0', { token: aliceToken }).expect(400);
      expect(res.body.message).toBe('Only one sdist may be uploaded per release.');
    });
  });

  it('refuses the same bytes under another filename', async () => {
    const wheel = await buildWheel({ name: 'dup-bytes', version: '1.0' });
    await upload(t, wheel, 'dup-bytes', '1.0', { token: aliceToken }).expect(200);
    await leavesNothing(async () => {
      const res = await upload(t, wheel, 'dup-bytes', '1.0', {
        token: aliceToken,
        filename: 'dup_bytes-1.0-py2.py3-none-any.whl',
      }).expect(400);
      expect(res.body.message).toMatch(/^File already exists \('dup_bytes-1.0-py3-none-any.whl'/);
    });
  });

  it('keeps the filename of a deleted file from being reused', async () => {
    await t.dataSource.manager.save(FilenameRegistry, { filename: 'gone-1.0-py3-none-any.whl' });
    const wheel = await buildWheel({ name: 'gone', version: '1.0' });
    await leavesNothing(async () => {
      const res = await upload(t, wheel, 'gone', '1.0', { token: aliceToken }).expect(400);
      expect(res.body.message).toContain(
        'This filename was previously used by a file that has since been deleted.',
      );
    });
  });

  it('settles two concurrent uploads of one file: both 200 or one File already exists, one row', async () => {
    const a = await buildWheel({ name: 'race', version: '1.0' });
    const b = await buildWheel({ name: 'race', version: '1.0', description: 'other bytes' });
    const [ra, rb] = await Promise.all([
      upload(t, a, 'race', '1.0', { token: aliceToken }),
      upload(t, b, 'race', '1.0', { token: aliceToken }),
    ]);
    expect([ra.status, rb.status].sort()).toEqual([200, 400]);
    expect([ra, rb].find((r) => r.status === 400)!.body.message).toMatch(/^File already exists/);
    expect(await t.dataSource.manager.countBy(ReleaseFile, { filename: a.filename })).toBe(1);
    expect(await t.dataSource.manager.countBy(Project, { normalizedName: 'race' })).toBe(1);
  });

  it('uploads the real wheels from ../shared/fixtures/dists', async () => {
    const { readFile } = await import('node:fs/promises');
    for (const [filename, name, version] of [
      ['pip-23.2.1-py3-none-any.whl', 'pip', '23.2.1'],
      ['wheel-0.40.0-py3-none-any.whl', 'wheel', '0.40.0'],
      ['example-21.12-py3-none-any.whl', 'example', '21.12'],
    ]) {
      const bytes = await readFile(
        join(process.cwd(), '..', 'shared', 'fixtures', 'dists', filename),
      );
      const dist = await finish(filename, bytes, null);
      await upload(t, dist, name, version, { token: aliceToken }).expect(200);
    }
  });
});
