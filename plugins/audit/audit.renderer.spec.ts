import { AuditTagRegistry } from '../../src/plugin-api/index.js';
import type { StoredEvent } from './audit.queries.js';
import { AuditRenderer } from './audit.renderer.js';
import { AUDIT_PLUGIN_TAGS, CORE_CATALOGUE } from './catalogue.js';

function event(tag: string, overrides: Partial<StoredEvent> = {}): StoredEvent {
  return {
    id: '1',
    occurredAt: new Date('2026-11-26T08:00:00Z'),
    tag,
    actorId: 'u1',
    actorName: 'alice',
    actorKind: 'user',
    actorTokenId: null,
    actorTokenName: null,
    actorTwoFactor: 'none',
    userId: 'u1',
    projectId: null,
    projectName: null,
    ip: '203.0.113.7',
    userAgent: 'pip/24',
    requestId: 'r1',
    additional: {},
    plugin: 'core',
    ...overrides,
  };
}

describe('the audit renderer', () => {
  const registry = new AuditTagRegistry();
  for (const d of CORE_CATALOGUE) registry.register(d, 'core');
  for (const d of AUDIT_PLUGIN_TAGS) registry.register(d, 'audit');
  registry.register(
    {
      tag: 'notify:email:sent',
      showsIn: ['account'],
      additional: ['to', 'subject', 'hook'],
      description: 'Notification e-mailed to {to}: {subject}',
    },
    'notify-email',
  );
  const renderer = new AuditRenderer(registry);

  it.each(registry.all().map((d) => [d.tag, d] as const))(
    'renders %s in plain words from its template, without the raw tag',
    (tag, definition) => {
      const additional = Object.fromEntries(definition.additional.map((k) => [k, `v-${k}`]));
      for (const audience of ['account', 'project', 'admin'] as const) {
        const out = renderer.render(event(tag, { additional }), audience);
        expect(out.generic).toBe(false);
        expect(out.summary).not.toContain(tag);
        expect(out.summary).not.toMatch(/[{}]/);
        expect(out.summary.length).toBeGreaterThan(5);
        // Every key the catalogue lists appears in the words.
        for (const key of definition.additional) {
          if (definition.description.includes(`{${key}}`))
            expect(out.summary).toContain(`v-${key}`);
        }
      }
    },
  );

  it('says who acted and how: "by alice via API token release-bot"', () => {
    const out = renderer.render(
      event('account:api_token:added', {
        actorKind: 'token',
        actorTokenId: 't1',
        actorTokenName: 'release-bot',
        additional: { description: 'ci', scope: ['acme'], expires: null, token_id: 't2' },
      }),
      'account',
    );
    expect(out.by).toBe('by alice via API token release-bot');
    expect(out.summary).toBe('API token ci added (scope: acme, expires: never)');
  });

  it('puts coded values in words: login failure reasons', () => {
    const out = renderer.render(
      event('account:login:failure', { additional: { reason: 'invalid_totp' } }),
      'account',
    );
    expect(out.summary).toBe('Login failed: wrong two-factor code');
  });

  it('shows "Redacted" for the IP of an action an administrator or the system took on the account', () => {
    const byAdmin = event('admin:user:disable', { actorKind: 'admin', actorId: 'root' });
    expect(renderer.render(byAdmin, 'account').ip).toBe('Redacted');
    expect(renderer.render(byAdmin, 'admin').ip).toBe('203.0.113.7');
    const bySystem = event('admin:user:create', { actorKind: 'system', actorId: null });
    expect(renderer.render(bySystem, 'account').ip).toBe('Redacted');
    expect(renderer.render(event('account:logout'), 'account').ip).toBe('203.0.113.7');
  });

  it('renders a tag no one registers any more generically: tag, actor and additional as pairs', () => {
    const out = renderer.render(
      event('gone:thing:done', { additional: { name: 'x', count: 2 } }),
      'admin',
    );
    expect(out.generic).toBe(true);
    expect(out.summary).toContain('gone:thing:done');
    expect(out.details).toEqual([
      { key: 'name', value: 'x' },
      { key: 'count', value: '2' },
    ]);
    expect(out.by).toBe('by alice');
  });
});

describe('filter menu labels', () => {
  it('are the templates without their values', () => {
    const registry = new AuditTagRegistry();
    for (const d of CORE_CATALOGUE) registry.register(d, 'core');
    const labels = new AuditRenderer(registry).choices('account').map((c) => c.label);
    expect(labels).toContain('E-mail added');
    expect(labels).toContain('API token added');
    expect(labels).toContain('Primary e-mail changed');
    expect(labels).toContain('Account created');
    expect(labels.filter((l) => /[{}:(]/.test(l))).toEqual([]);
  });

  it('links to the project, release and account while they exist; plain text once deleted', () => {
    const registry = new AuditTagRegistry();
    for (const d of CORE_CATALOGUE) registry.register(d, 'core');
    const renderer = new AuditRenderer(registry);
    const upload = event('file:add', {
      projectId: 'p1',
      projectName: 'Acme.Widgets',
      userId: 'u2',
      additional: { filename: 'a.whl', version: '1.0', submitted_by: 'alice' },
    });
    const live = {
      projects: new Map([['p1', 'Acme.Widgets']]),
      releases: new Set(['p1 1.0']),
      users: new Map([['u2', 'bob']]),
    };
    const now = renderer.render(upload, 'admin', live);
    expect(now.project).toEqual({
      name: 'Acme.Widgets',
      href: '/project/Acme.Widgets/',
      filter: '/admin/audit/?project=Acme.Widgets',
    });
    expect(now.release).toEqual({ version: '1.0', href: '/project/Acme.Widgets/1.0/' });
    expect(now.user).toEqual({ id: 'u2', name: 'bob', href: '/admin/audit/?user=u2' });
    // The release deleted: the project still links, the release is plain text.
    const noRelease = renderer.render(upload, 'project', { ...live, releases: new Set() });
    expect(noRelease.release).toEqual({ version: '1.0', href: null });
    expect(noRelease.project).toMatchObject({ href: '/project/Acme.Widgets/', filter: null });
    // Everything deleted: names stay, links go (the admin's filter of its events stays).
    const gone = { projects: new Map(), releases: new Set<string>(), users: new Map() };
    const after = renderer.render(upload, 'admin', gone);
    expect(after.project).toEqual({
      name: 'Acme.Widgets',
      href: null,
      filter: '/admin/audit/?project=Acme.Widgets',
    });
    expect(after.release).toEqual({ version: '1.0', href: null });
    expect(after.user).toEqual({ id: 'u2', name: 'u2', href: '/admin/audit/?user=u2' });
  });
});
