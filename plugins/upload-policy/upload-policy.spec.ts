import { HookBus, HookVetoError, type HookMap } from '../../src/plugin-api/index.js';
import { createPluginTestApp, userActor, type TestApp } from '../../test/helpers/test-app.js';

const MB = 1024 * 1024;
const uploading = (
  projectName: string,
  filename: string,
  size: number,
): HookMap['file.uploading'] => ({
  project: null,
  projectName,
  version: '1.0',
  file: { filename, size },
});

describe('the upload-policy plugin in a booted app', () => {
  let t: TestApp;
  let bus: HookBus;
  beforeAll(async () => {
    t = await createPluginTestApp('upload-policy', {
      options: {
        maxFileSizeMb: '5',
        allowedFilenames: '*.whl,*.tar.gz',
        reservedPrefixes: '{"acme-":["alice"]}',
      },
    });
    bus = t.app.get(HookBus);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('registers its before-hook on file.uploading under its name', () => {
    expect(bus.registrations()).toContainEqual({
      hook: 'file.uploading',
      phase: 'before',
      order: 0,
      plugin: 'upload-policy',
    });
  });

  it('vetoes an upload over the size limit with a message naming the plugin', async () => {
    const veto = t.asActor(userActor('alice'), () =>
      bus.runBefore(
        'file.uploading',
        uploading('acme-widgets', 'acme_widgets-1.0-py3-none-any.whl', 6 * MB),
      ),
    );
    await expect(veto).rejects.toBeInstanceOf(HookVetoError);
    await expect(veto).rejects.toThrow(
      'upload-policy: acme_widgets-1.0-py3-none-any.whl is 6 MB; files of acme-widgets may be at most 5 MB.',
    );
  });

  it('vetoes a reserved prefix for anyone else, and a filename outside the patterns', async () => {
    await expect(
      t.asActor(userActor('mallory'), () =>
        bus.runBefore('file.uploading', uploading('acme-widgets', 'acme_widgets-1.0.tar.gz', MB)),
      ),
    ).rejects.toThrow(
      'upload-policy: project names starting with "acme-" are reserved; mallory may not upload to acme-widgets.',
    );
    await expect(
      t.asActor(userActor('mallory'), () =>
        bus.runBefore('file.uploading', uploading('other', 'other-1.0.egg', MB)),
      ),
    ).rejects.toThrow('upload-policy: other-1.0.egg is not an allowed filename');
  });

  it('lets an upload that breaks no rule through, and nothing is written when one is refused', async () => {
    await t.asActor(userActor('alice'), () =>
      bus.runBefore('file.uploading', uploading('acme-widgets', 'acme_widgets-1.0.tar.gz', MB)),
    );
    await t.dataSource.query('CREATE TABLE upload_probe (filename text)');
    const store = (filename: string, size: number) =>
      t.asActor(userActor('bob'), () =>
        bus.perform('file.uploading', uploading('other', filename, size), (manager) =>
          manager.query('INSERT INTO upload_probe VALUES ($1)', [filename]),
        ),
      );
    await expect(store('big-1.0.tar.gz', 50 * MB)).rejects.toBeInstanceOf(HookVetoError);
    await store('small-1.0.tar.gz', MB);
    expect(await t.dataSource.query('SELECT filename FROM upload_probe')).toEqual([
      { filename: 'small-1.0.tar.gz' },
    ]);
  });
});

describe('upload-policy options', () => {
  it('refuses to boot on a malformed rule, naming the variable', async () => {
    await expect(
      createPluginTestApp('upload-policy', { options: { reservedPrefixes: '{"acme-":"alice"}' } }),
    ).rejects.toThrow(
      'plugin upload-policy: LARDER_PLUGIN_UPLOAD_POLICY_RESERVED_PREFIXES: must be a JSON object of prefixes to lists of usernames',
    );
  });
});
