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
