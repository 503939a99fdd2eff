import { join } from 'node:path';
import { HookBus } from '../src/hooks/hook-bus.js';
import { HookVetoError } from '../src/hooks/hook-veto.js';
import { pendingSchemaChanges } from '../src/database/migrator.js';
import { AuditTagRegistry } from '../src/plugin-host/audit-extension.js';
import { TabRegistry } from '../src/web/tabs.js';
import { createUser, login, type SignedInAgent } from './helpers/factories.js';
import { createProject, grantRole } from './helpers/projects.js';
import { createPluginTestApp, userActor, type TestApp } from './helpers/test-app.js';

const samplePlugin = join(process.cwd(), 'test/fixtures/plugins/sample');

describe('a plugin loaded by absolute path', () => {
  let t: TestApp;
  let alice: SignedInAgent;
  let bob: SignedInAgent;
  let root: SignedInAgent;
  beforeAll(async () => {
    t = await createPluginTestApp(samplePlugin, {
      name: 'sample',
      options: { pageSize: '2' },
    });
    const [a, b, r] = await Promise.all([
      createUser(t),
      createUser(t),
      createUser(t, { admin: true }),
    ]);
    // alice owns acme-widgets, bob maintains it.
    await createProject(t, 'acme-widgets', a.user);
    await grantRole(t, 'acme-widgets', b.user, 'Maintainer');
    [alice, bob, root] = [await login(t, a), await login(t, b), await login(t, r)];
  });
  afterAll(async () => {
    await t?.close();
  });

  it('has its migrations run with the core, leaving nothing to generate for its entities', async () => {
    const applied: { name: string }[] = await t.dataSource.query('SELECT name FROM migrations');
    expect(applied.map((m) => m.name)).toContain('SampleNotes1764140000000');
    expect(await t.dataSource.query('SELECT count(*)::int AS n FROM sample_notes')).toEqual([
      { n: 0 },
    ]);
    expect(await pendingSchemaChanges(t.dataSource)).toEqual([]);
  });

  it('has its @OnHook handlers registered in its own name', () => {
    const sample = t.app
      .get(HookBus)
      .registrations()
      .filter((r) => r.plugin === 'sample');
    expect(sample.map((r) => `${r.hook}:${r.phase}`).sort()).toEqual([
      'release.created:after',
      'release.created:before',
      'release.created:transaction',
    ]);
  });

  it("vetoes in its own name, and its transaction hook writes with the action's manager", async () => {
    const bus = t.app.get(HookBus);
    const payload = (version: string) => ({
      project: { id: 'p', name: 'acme', normalizedName: 'acme' },
      release: { id: 'r', version, canonicalVersion: version },
    });
    const veto = t.asActor(userActor('alice'), () =>
      bus.perform('release.created', payload('1.0.veto'), async () => {}),
    );
    await expect(veto).rejects.toBeInstanceOf(HookVetoError);
    await expect(veto).rejects.toThrow('sample: versions saying "veto" are refused');
    await t.asActor(userActor('alice'), () =>
      bus.perform('release.created', payload('1.0'), async () => {}),
    );
    await expect(
      t.asActor(userActor('alice'), () =>
        bus.perform('release.created', payload('1.1.rollback'), async () => {}),
      ),
    ).rejects.toThrow('fails inside the transaction');
    const notes = await t.dataSource.query('SELECT body FROM sample_notes ORDER BY id');
    expect(notes).toEqual([{ body: 'release 1.0' }]);
  });

  it('contributes its tab and audit tags under its own name', () => {
    expect(t.app.get(TabRegistry).find('admin', 'sample-notes')).toMatchObject({
      owner: 'sample',
      path: '/admin/sample/',
    });
    expect(t.app.get(AuditTagRegistry).get('sample:note:added')).toMatchObject({ owner: 'sample' });
  });

  it('shows its admin tab page to admins, inside the core layout with the tab bar', async () => {
    await t.dataSource.query('DELETE FROM sample_notes');
    await t.dataSource.query(`INSERT INTO sample_notes (body) VALUES ('one'), ('two'), ('three')`);
    const res = await root.agent.get('/admin/sample/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<header class="site-header">');
    // In the admin tab bar, after the core's own admin tabs.
    expect(res.text).toMatch(
      /<nav class="tabs"[^>]*>[\s\S]*<a href="\/admin\/sample\/" class="active" aria-current="page">Sample notes<\/a>[\s\S]*<\/nav>/,
    );
    // The option LARDER_PLUGIN_SAMPLE_PAGE_SIZE=2 reached the plugin.
    // Rendered through the plugin's own partial, {{> sample/note}}.
    expect(res.text).toContain('<li class="note">one</li><li class="note">two</li>');
    expect(res.text).not.toContain('three');
  });

  it('hides the page from signed-in non-admins (404) and sends anonymous visitors to sign in', async () => {
    await alice.agent.get('/admin/sample/').expect(404);
    const res = await t.http().get('/admin/sample/').expect(303);
    expect(res.headers.location).toMatch(/^\/account\/login\/\?next=/);
  });

  it('leaves the tab out of the tab bar for viewers its permission refuses', () => {
    const tabs = t.app.get(TabRegistry);
    const alice = { user: { id: '1', username: 'alice', isAdmin: false } };
    const root = { user: { id: '2', username: 'root', isAdmin: true } };
    expect(tabs.render('admin', alice, '').map((tab) => tab.id)).not.toContain('sample-notes');
    expect(tabs.render('admin', root, '').map((tab) => tab.id)).toContain('sample-notes');
  });

  it("shows a project tab to the project's owners only, linking to that project", async () => {
    const res = await alice.agent.get('/manage/project/acme-widgets/sample/');
    expect(res.status).toBe(200);
    expect(res.text).toContain(
      '<a href="/manage/project/acme-widgets/sample/" class="active" aria-current="page">Sample</a>',
    );
    expect(res.text).toContain('<h1>Sample for acme-widgets</h1>');
    await bob.agent.get('/manage/project/acme-widgets/sample/').expect(404);
    await alice.agent.get('/manage/project/other/sample/').expect(404);
  });
});

describe('a plugin whose migration fails', () => {
  it('stops the boot naming the plugin and the migration', async () => {
    await expect(
      createPluginTestApp(join(process.cwd(), 'test/fixtures/plugins/broken-migration'), {
        name: 'broken-migration',
      }),
    ).rejects.toThrow(
      'plugin broken-migration: migration BrokenThings1764150000000 failed: relation "no_such_table" does not exist',
    );
  });
});
