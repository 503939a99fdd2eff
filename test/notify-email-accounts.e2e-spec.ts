import { UserService } from '../src/accounts/users/user.service.js';
import type { Actor } from '../src/context/request-context.js';
import { Mailer } from '../plugins/notify-email/mailer.js';
import { startSmtpServer, waitFor } from '../plugins/notify-email/test/smtp-server.js';
import { createToken, createUser } from './helpers/factories.js';
import { createPluginTestApp } from './helpers/test-app.js';

/** The notify-email plugin wired to the real accounts feature: no test double in between. */
describe('notify-email with the real accounts', () => {
  it("mails a verified primary address on password change and token creation, through the accounts' own actions", async () => {
    const smtp = await startSmtpServer();
    const t = await createPluginTestApp('notify-email', {
      options: { smtpUrl: smtp.url, retryDelayMs: '20' },
    });
    try {
      const who = await createUser(t, { email: 'dana@example.org' });
      const dana: Actor = {
        kind: 'user',
        userId: who.user.id,
        username: who.username,
        isAdmin: false,
      };
      const users = t.app.get(UserService);
      // Unverified: no security mail goes to an address nobody has proven to own.
      await t.asActor(dana, () => users.changePassword(who.user, 'a-Much-better-passphrase-1'));
      await t.app.get(Mailer).idle();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(smtp.received).toEqual([]);

      await t.dataSource.query('UPDATE user_emails SET verified = true WHERE user_id = $1', [
        who.user.id,
      ]);
      await t.asActor(dana, () => users.changePassword(who.user, 'a-Much-better-passphrase-2'));
      await createToken(t, who.user, { name: 'release-bot' });
      await waitFor(() => smtp.received.length === 2);
      expect(smtp.received.map((m) => [m.to[0], m.subject])).toEqual([
        ['dana@example.org', 'Your Larder password was changed'],
        ['dana@example.org', 'API token "release-bot" created'],
      ]);
      expect(smtp.received[1].body).toContain('by the system');
    } finally {
      await t.close();
      await smtp.close();
    }
  });
});
