import { createToken, createUser } from '../../test/helpers/factories.js';
import { createPluginTestApp, type TestApp } from '../../test/helpers/test-app.js';
import { startSmtpServer, waitFor } from '../notify-email/test/smtp-server.js';
import { AuditWriter } from './audit.writer.js';

describe('the audit plugin with another plugin that records audit events', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let t: TestApp;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createPluginTestApp('audit', {
      env: {
        LARDER_PLUGINS: 'audit,notify-email',
        LARDER_PLUGIN_NOTIFY_EMAIL_SMTP_URL: smtp.url,
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it('stores notify:email:sent, recorded by notify-email through the plugin API, in audit_events', async () => {
    const alice = await createUser(t);
    // notify-email writes only to a verified address.
    await t.dataSource.query('UPDATE user_emails SET verified = true WHERE user_id = $1', [
      alice.user.id,
    ]);
    const token = await createToken(t, alice.user, { name: 'ci-release' });
    await waitFor(() => smtp.received.length === 1);
    const rows = async () => {
      await t.app.get(AuditWriter).idle();
      return t.dataSource.query(
        `SELECT tag, plugin, user_id, actor_kind, additional FROM audit_events
          WHERE user_id = $1 ORDER BY id`,
        [alice.user.id],
      );
    };
    for (let i = 0; i < 200 && (await rows()).length < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(await rows()).toEqual([
      expect.objectContaining({ tag: 'admin:user:create', plugin: 'core' }),
      expect.objectContaining({
        tag: 'account:api_token:added',
        plugin: 'core',
        additional: expect.objectContaining({ token_id: token.id }),
      }),
      {
        tag: 'notify:email:sent',
        plugin: 'notify-email',
        user_id: alice.user.id,
        actor_kind: 'system',
        additional: {
          to: alice.email,
          subject: 'API token "ci-release" created',
          hook: 'token.created',
        },
      },
    ]);
  });
});

describe('the audit plugin outside strict mode (production)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createPluginTestApp('audit', { env: { LARDER_AUDIT_STRICT: 'false' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('records what it can of a change it cannot attribute, as audit:unmapped:change, and lets it through', async () => {
    const kim = await createUser(t);
    const users = t.dataSource.entityMetadatas.find((m) => m.tableName === 'users')!.target;
    const repository = t.dataSource.getRepository(users);
    const row = await repository.findOneByOrFail({ id: kim.user.id });
    // No request context at all, and a column no rule knows.
    await repository.save(Object.assign(row, { username: `${kim.username}-renamed` }));
    const events = await t.dataSource.query(
      `SELECT tag, actor_kind, actor_name, user_id, additional FROM audit_events
        WHERE tag = 'audit:unmapped:change'`,
    );
    expect(events).toEqual([
      {
        tag: 'audit:unmapped:change',
        actor_kind: 'system',
        actor_name: 'no-request-context',
        user_id: null,
        additional: {
          table: 'users',
          operation: 'update',
          columns: ['username'],
          problem: 'no request context',
        },
      },
    ]);
  });
});
