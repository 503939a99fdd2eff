import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReleaseFile } from '../src/packages/release-file.entity.js';
import { Release } from '../src/packages/release.entity.js';
import { Project } from '../src/projects/project.entity.js';
import { buildWheel } from './helpers/dists.js';
import { createToken, createUser } from './helpers/factories.js';
import { createPluginTestApp, type TestApp } from './helpers/test-app.js';
import { statusMessage, upload } from './helpers/uploads.js';

/** The upload-policy plugin refusing real uploads through POST /legacy/, as twine sends them. */
describe('upload-policy on the upload API', () => {
  let t: TestApp;
  let mallory: { token: string; username: string };

  beforeAll(async () => {
    t = await createPluginTestApp('upload-policy', {
      options: { reservedPrefixes: '{"acme-":["alice"]}' },
    });
    const user = await createUser(t);
    mallory = { token: (await createToken(t, user.user)).value, username: user.username };
  });
  afterAll(async () => {
    await t?.close();
  });

  async function stored() {
    const m = t.dataSource.manager;
    const files = await readdir(join(t.config.dataDir, 'files'), {
      recursive: true,
      withFileTypes: true,
    }).catch(() => []);
    return {
      projects: await m.count(Project),
      releases: await m.count(Release),
      files: await m.count(ReleaseFile),
      blobs: files.filter((e) => e.isFile()).length,
    };
  }

  it('a veto stops the upload with a 400 twine prints, naming the plugin, and nothing is stored', async () => {
    const before = await stored();
    const wheel = await buildWheel({ name: 'acme-widgets', version: '1.0' });
    const res = await upload(t, wheel, 'acme-widgets', '1.0', { token: mallory.token });
    expect(res.status).toBe(400);
    expect(statusMessage(res)).toBe(
      `upload-policy: project names starting with "acme-" are reserved; ${mallory.username} may not upload to acme-widgets.`,
    );
    expect(await stored()).toEqual(before);
  });

  it('lets an upload that breaks no rule through', async () => {
    const wheel = await buildWheel({ name: 'other-widgets', version: '1.0' });
    await upload(t, wheel, 'other-widgets', '1.0', { token: mallory.token }).expect(200);
    expect(await t.dataSource.manager.countBy(Project, { normalizedName: 'other-widgets' })).toBe(
      1,
    );
  });

  it('twine prints the veto', async () => {
    if (!twineInstalled()) return;
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const dir = await mkdtemp(join(tmpdir(), 'larder-veto-'));
    try {
      const wheel = await buildWheel({ name: 'acme-gadgets', version: '2.0' });
      await writeFile(join(dir, wheel.filename), wheel.bytes);
      const output = await new Promise<{ code: number; text: string }>((resolve) =>
        execFile(
          'twine',
          [
            'upload',
            '--repository-url',
            `http://127.0.0.1:${port}/legacy/`,
            '-u',
            '__token__',
            '-p',
            mallory.token,
            join(dir, wheel.filename),
          ],
          {
            timeout: 120_000,
            env: {
              PATH: process.env.PATH ?? '/usr/bin:/bin',
              HOME: dir,
              TWINE_NON_INTERACTIVE: '1',
              PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring',
            },
          },
          (error, stdout, stderr) => resolve({ code: error ? 1 : 0, text: `${stdout}\n${stderr}` }),
        ),
      );
      // twine (rich) wraps and colours its output: compare on one line.
      // eslint-disable-next-line no-control-regex
      const line = output.text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\s+/g, ' ');
      expect(output.code).not.toBe(0);
      expect(line).toContain('400');
      expect(line).toContain('upload-policy: project names starting with "acme-" are reserved;');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Debian's twine, when installed; CI (LARDER_REQUIRE_CLIENTS=1) requires it. */
function twineInstalled(): boolean {
  try {
    execFileSync('twine', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.LARDER_REQUIRE_CLIENTS === '1') throw new Error('twine is not installed');
    console.warn('upload-policy-upload: twine is not installed, its check is skipped');
    return false;
  }
}
