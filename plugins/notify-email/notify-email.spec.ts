import {
  ACCOUNT_DIRECTORY,
  AuditRecorder,
  HookBus,
  type AccountDirectory,
  type AuditEventInput,
  type HookMap,
  type HookName,
} from '../../src/plugin-api/index.js';
import { captureLogs } from '../../test/helpers/log-capture.js';
import { LOGGER } from '../../src/plugin-api/index.js';
import {
  createPluginTestApp,
  testUserId,
  userActor,
  type TestApp,
} from '../../test/helpers/test-app.js';
import { Mailer } from './mailer.js';
import { startSmtpServer, waitFor } from './test/smtp-server.js';

const alice = { id: testUserId('alice'), username: 'alice' };
const bob = { id: testUserId('bob'), username: 'bob' };
const carol = { id: testUserId('carol'), username: 'carol' };
const project = { id: 'project-1', name: 'acme-widgets', normalizedName: 'acme-widgets' };
const release = { id: 'release-1', version: '1.0', canonicalVersion: '1' };

/** The accounts the core would know: alice and bob maintain acme-widgets, carol has no address. */
const directory: AccountDirectory = {
  primaryEmail: async (id) =>
    ({ [alice.id]: 'alice@example.org', [bob.id]: 'bob@example.org' })[id] ?? null,
  projectMaintainers: async (id) => (id === project.id ? [alice.id, bob.id, carol.id] : []),
  usernames: async () => new Map(),
  ownedProjects: async () => [],
};

describe('the notify-email plugin', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let t: TestApp;
  let bus: HookBus;
  const audit: Array<AuditEventInput & { plugin: string }> = [];
  const logs = captureLogs();

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createPluginTestApp('notify-email', {
      options: {
        smtpUrl: smtp.url,
        from: 'Larder <larder@example.org>',
        retries: '2',
        retryDelayMs: '20',
      },
      overrides: [
        { provide: ACCOUNT_DIRECTORY, useValue: directory },
        { provide: LOGGER, useValue: logs.logger },
      ],
    });
    bus = t.app.get(HookBus);
    // Stands in for the audit plugin.
    t.app.get(AuditRecorder).implement({ record: async (event) => void audit.push(event) });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });
  beforeEach(async () => {
    // Deliveries (and their audit records) of the previous test finish before counting anew.
    await t.app.get(Mailer).idle();
    smtp.received.length = 0;
    smtp.state.refuse = 0;
    smtp.state.attempts = 0;
    audit.length = 0;
    logs.lines.length = 0;
  });

  /** Performs an action through the bus as `actor`, as a core feature does. */
  const act = <K extends HookName>(hook: K, payload: HookMap[K], actor = userActor('alice')) =>
    t.asActor(actor, () => bus.perform(hook, payload, async () => 'done'));
  const settle = () => t.app.get(Mailer).idle();

  it('e-mails the account holder when the password changes, and records it for the audit log', async () => {
    await act('account.password.changed', { user: alice });
    await waitFor(() => smtp.received.length === 1);
    expect(smtp.received[0]).toMatchObject({
      to: ['alice@example.org'],
      subject: 'Your Larder password was changed',
    });
    expect(smtp.received[0].body).toContain('was changed');
    expect(smtp.received[0].body).toContain('by alice from 192.0.2.1');
    await waitFor(() => audit.length === 1);
    expect(audit[0]).toEqual({
      plugin: 'notify-email',
      tag: 'notify:email:sent',
      userId: alice.id,
      project: null,
      additional: {
        to: 'alice@example.org',
        subject: 'Your Larder password was changed',
        hook: 'account.password.changed',
      },
    });
  });

  it('e-mails on API token creation, naming the token and its scope', async () => {
    await act('token.created', {
      user: alice,
      token: { id: 't1', name: 'ci-release', projects: ['acme-widgets'], expiresAt: null },
    });
    await waitFor(() => smtp.received.length === 1);
    expect(smtp.received[0].subject).toBe('API token "ci-release" created');
    expect(smtp.received[0].body).toContain('for projects acme-widgets');
  });

  it('e-mails every maintainer with an address once when a release is yanked', async () => {
    await act('release.yanked', { project, release, reason: 'broken wheel' }, userActor('bob'));
    await waitFor(() => smtp.received.length === 2);
    await settle();
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual([
      'alice@example.org',
      'bob@example.org',
    ]);
    expect(smtp.received[0].subject).toBe('acme-widgets 1.0 was yanked');
    expect(smtp.received[0].body).toContain('(reason: broken wheel)');
    expect(audit.map((a) => a.project)).toEqual([
      { id: project.id, name: project.name },
      { id: project.id, name: project.name },
    ]);
  });

  it('tells both the removed address and the primary one when an address is removed', async () => {
    await act('account.email.removed', { user: alice, email: 'old@example.org' });
    await waitFor(() => smtp.received.length === 2);
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual([
      'alice@example.org',
      'old@example.org',
    ]);
  });

  it('covers each action PyPI e-mails for', async () => {
    await act('account.2fa.added', { user: alice, method: 'totp' });
    await act('account.2fa.removed', { user: alice, method: 'totp' });
    await act('account.email.added', { user: alice, email: 'new@example.org' });
    await act('role.added', { project, user: carol, role: 'Maintainer' });
    await act('role.removed', { project, user: carol, role: 'Maintainer' });
    await act('release.deleted', { project, release });
    await act('file.deleted', {
      project,
      release,
      file: { filename: 'acme_widgets-1.0.tar.gz', size: 1 },
    });
    await waitFor(() => smtp.received.length === 3 + 2 * 4);
    await settle();
    expect(new Set(smtp.received.map((m) => m.subject))).toEqual(
      new Set([
        'Two-factor method added to your Larder account',
        'Two-factor method removed from your Larder account',
        'E-mail address added to your Larder account',
        'carol was added to acme-widgets',
        'carol was removed from acme-widgets',
        'acme-widgets 1.0 was removed',
        'acme_widgets-1.0.tar.gz was removed from acme-widgets',
      ]),
    );
  });

  it('retries a refused send with backoff until the server accepts it', async () => {
    smtp.state.refuse = 2;
    const result = await act('account.password.changed', { user: bob });
    expect(result).toBe('done');
    await waitFor(() => smtp.received.length === 1);
    expect(smtp.state.attempts).toBe(3);
    expect(logs.lines.filter((l) => l.msg === 'notification not sent: will retry')).toHaveLength(2);
    expect(logs.lines.find((l) => l.msg === 'notification not sent: will retry')).toMatchObject({
      plugin: 'notify-email',
    });
  });

  it('gives up after the configured retries without failing the action', async () => {
    smtp.state.refuse = 100;
    await expect(act('account.password.changed', { user: bob })).resolves.toBe('done');
    await waitFor(() => logs.lines.some((l) => l.msg === 'notification not sent: giving up'));
    expect(smtp.state.attempts).toBe(3);
    expect(smtp.received).toEqual([]);
    expect(audit).toEqual([]);
  });
});

describe('notify-email options', () => {
  it('refuses to boot without an SMTP URL, naming the variable', async () => {
    await expect(createPluginTestApp('notify-email')).rejects.toThrow(
      'plugin notify-email: LARDER_PLUGIN_NOTIFY_EMAIL_SMTP_URL: must be an smtp:// or smtps:// URL',
    );
  });
});

describe('notify-email at shutdown', () => {
  it('does not sit out a long retry backoff: the waiting send gives up, logged', async () => {
    const smtp = await startSmtpServer();
    const logs = captureLogs();
    const t = await createPluginTestApp('notify-email', {
      options: { smtpUrl: smtp.url, retries: '5', retryDelayMs: '600000' },
      overrides: [
        { provide: ACCOUNT_DIRECTORY, useValue: directory },
        { provide: LOGGER, useValue: logs.logger },
      ],
    });
    try {
      smtp.state.refuse = 100;
      await t.asActor(userActor('alice'), () =>
        t.app.get(HookBus).perform('account.password.changed', { user: alice }, async () => {}),
      );
      await waitFor(() => logs.lines.some((l) => l.msg === 'notification not sent: will retry'));
      const started = Date.now();
      await t.close();
      expect(Date.now() - started).toBeLessThan(5000);
      expect(logs.lines.some((l) => l.msg === 'notification not sent: Larder is stopping')).toBe(
        true,
      );
    } finally {
      await smtp.close();
    }
  });
});
