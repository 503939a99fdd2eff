import request from 'supertest';
import { LoginFailure } from '../src/accounts/sessions/login-failure.entity.js';
import { Session } from '../src/accounts/sessions/session.entity.js';
import { UserEmail } from '../src/accounts/emails/user-email.entity.js';
import { Mailer, type OutgoingMail } from '../src/accounts/emails/mailer.service.js';
import { User } from '../src/accounts/users/user.entity.js';
import { createUser, csrfFrom, login } from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

function linkIn(mail: OutgoingMail): string {
  const match = /http:\/\/127\.0\.0\.1:8080(\/account\/[^\s]+)/.exec(mail.text);
  if (!match) throw new Error(`no link in: ${mail.text}`);
  return match[1];
}

describe('accounts', () => {
  let t: TestApp;
  const outbox: OutgoingMail[] = [];
  beforeAll(async () => {
    t = await createTestApp({
      env: {
        LARDER_REGISTRATION: 'open',
        LARDER_LOGIN_FAILURES_PER_ACCOUNT: '3',
        LARDER_LOGIN_FAILURES_PER_IP: '1000',
      },
    });
    t.app.get(Mailer).onSend((mail) => outbox.push(mail));
  });
  afterAll(async () => {
    await t?.close();
  });
  const lastMailTo = (address: string) => [...outbox].reverse().find((m) => m.to === address)!;

  async function form(path: string, agent = request.agent(t.app.getHttpServer())) {
    const page = await agent.get(path).expect(200);
    return { agent, csrf: csrfFrom(page.text) };
  }

  describe('registration', () => {
    it('creates an account, signs it in and mails a verification link', async () => {
      const { agent, csrf } = await form('/account/register/');
      const res = await agent
        .post('/account/register/')
        .type('form')
        .send({
          csrf_token: csrf,
          username: 'New.User_1',
          email: 'New.User@Example.test',
          password: 'a fine long passphrase',
          password_confirm: 'a fine long passphrase',
        })
        .expect(303);
      expect(res.headers.location).toBe('/manage/account/');
      const page = await agent.get('/manage/account/').expect(200);
      expect(page.text).toContain('New.User@Example.test');
      expect(page.text).toContain('Unverified');
      const mail = lastMailTo('New.User@Example.test');
      await t.http().get(linkIn(mail)).expect(200);
      expect((await agent.get('/manage/account/').expect(200)).text).toContain('Verified');
    });

    it('refuses a taken username whatever its case, and a taken e-mail', async () => {
      await createUser(t, { username: 'Taken', email: 'taken@example.test' });
      const { agent, csrf } = await form('/account/register/');
      const base = {
        csrf_token: csrf,
        password: 'another long passphrase',
        password_confirm: 'another long passphrase',
      };
      const name = await agent
        .post('/account/register/')
        .type('form')
        .send({ ...base, username: 'tAKEN', email: 'new@example.test' })
        .expect(400);
      expect(name.text).toContain('already taken');
      const email = await agent
        .post('/account/register/')
        .type('form')
        .send({ ...base, username: 'fresh', email: 'TAKEN@example.test' })
        .expect(400);
      expect(email.text).toContain('already in use');
    });

    it.each([
      ['bad name!', 'a fine long passphrase', 'may contain only letters'],
      ['-dash', 'a fine long passphrase', 'start and end with a letter or digit'],
      ['shorty', 'short', 'at least 8 characters'],
      ['rosalind', 'xxROSALINDxx', 'must not contain your username'],
      ['commoner', 'password123', 'most commonly used passwords'],
      ['commoner', 'Iloveyou1', 'most commonly used passwords'],
    ])('refuses username %p with password %p: %s', async (username, password, message) => {
      const { agent, csrf } = await form('/account/register/');
      const res = await agent
        .post('/account/register/')
        .type('form')
        .send({
          csrf_token: csrf,
          username,
          email: `${username.replace(/\W/g, '')}@x.test`,
          password,
          password_confirm: password,
        })
        .expect(400);
      expect(res.text).toContain(message);
      expect(res.text).not.toContain(`value="${password}"`);
    });

    it('refuses a bad e-mail address and mismatched passwords', async () => {
      const { agent, csrf } = await form('/account/register/');
      const bad = await agent
        .post('/account/register/')
        .type('form')
        .send({
          csrf_token: csrf,
          username: 'mailless',
          email: 'not-an-address',
          password: 'a fine long passphrase',
          password_confirm: 'a fine long passphrase',
        })
        .expect(400);
      expect(bad.text).toContain('is not a valid e-mail address');
      const mismatch = await agent
        .post('/account/register/')
        .type('form')
        .send({
          csrf_token: csrf,
          username: 'mailless',
          email: 'm@x.test',
          password: 'a fine long passphrase',
          password_confirm: 'other',
        })
        .expect(400);
      expect(mismatch.text).toContain('do not match');
    });

    it('escapes what the user typed when the form comes back', async () => {
      const { agent, csrf } = await form('/account/register/');
      const res = await agent
        .post('/account/register/')
        .type('form')
        .send({
          csrf_token: csrf,
          username: '<script>x</script>',
          email: 'a@x.test',
          password: 'a fine long passphrase',
          password_confirm: 'a fine long passphrase',
        })
        .expect(400);
      expect(res.text).not.toContain('<script>x</script>');
      expect(res.text).toContain('&lt;script&gt;');
    });
  });

  describe('e-mail addresses', () => {
    it('adds, verifies, makes primary and removes an address', async () => {
      const alice = await createUser(t);
      const { agent, csrf } = await login(t, alice);
      await agent
        .post('/manage/account/emails')
        .type('form')
        .send({ csrf_token: csrf, email: 'second@alice.test' })
        .expect(303);
      const second = await t.dataSource
        .getRepository(UserEmail)
        .findOneByOrFail({ email: 'second@alice.test' });
      // Unverified addresses cannot become primary.
      const early = await agent
        .post(`/manage/account/emails/${second.id}/primary`)
        .type('form')
        .send({ csrf_token: csrf })
        .expect(400);
      expect(early.text).toContain('Verify this e-mail address');
      await t
        .http()
        .get(linkIn(lastMailTo('second@alice.test')))
        .expect(200);
      await agent
        .post(`/manage/account/emails/${second.id}/primary`)
        .type('form')
        .send({ csrf_token: csrf })
        .expect(303);
      const emails = await t.dataSource.getRepository(UserEmail).findBy({ userId: alice.user.id });
      expect(emails.find((e) => e.primary)!.email).toBe('second@alice.test');
      // The primary cannot be removed; the other one can.
      await agent
        .post(`/manage/account/emails/${second.id}/remove`)
        .type('form')
        .send({ csrf_token: csrf })
        .expect(400);
      const first = emails.find((e) => !e.primary)!;
      await agent
        .post(`/manage/account/emails/${first.id}/remove`)
        .type('form')
        .send({ csrf_token: csrf })
        .expect(303);
      expect(await t.dataSource.getRepository(UserEmail).countBy({ userId: alice.user.id })).toBe(
        1,
      );
    });

    it("cannot touch another user's address (404)", async () => {
      const owner = await createUser(t);
      const other = await createUser(t);
      const email = await t.dataSource
        .getRepository(UserEmail)
        .findOneByOrFail({ userId: owner.user.id });
      const { agent, csrf } = await login(t, other);
      await agent
        .post(`/manage/account/emails/${email.id}/remove`)
        .type('form')
        .send({ csrf_token: csrf })
        .expect(404);
      await agent
        .post(`/manage/account/emails/${email.id}/primary`)
        .type('form')
        .send({ csrf_token: csrf })
        .expect(404);
    });

    it('refuses a forged or tampered verification link', async () => {
      const bob = await createUser(t);
      const link = linkIn(lastMailTo(bob.email));
      await t
        .http()
        .get(link.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')))
        .expect(400);
      await t.http().get('/account/verify-email/?token=nonsense').expect(400);
      const row = await t.dataSource
        .getRepository(UserEmail)
        .findOneByOrFail({ userId: bob.user.id });
      expect(row.verified).toBe(false);
    });
  });

  describe('passwords', () => {
    it('changes the password with the current one, and signs out the other sessions', async () => {
      const carol = await createUser(t);
      const here = await login(t, carol);
      const elsewhere = await login(t, carol);
      const wrong = await here.agent
        .post('/manage/account/password')
        .type('form')
        .send({
          csrf_token: here.csrf,
          current_password: 'nope-nope',
          new_password: 'brand new passphrase',
          password_confirm: 'brand new passphrase',
        })
        .expect(400);
      expect(wrong.text).toContain('not right');
      const weak = await here.agent
        .post('/manage/account/password')
        .type('form')
        .send({
          csrf_token: here.csrf,
          current_password: carol.password,
          new_password: 'qwertyuiop',
          password_confirm: 'qwertyuiop',
        })
        .expect(400);
      expect(weak.text).toContain('most commonly used');
      await here.agent
        .post('/manage/account/password')
        .type('form')
        .send({
          csrf_token: here.csrf,
          current_password: carol.password,
          new_password: 'brand new passphrase',
          password_confirm: 'brand new passphrase',
        })
        .expect(303);
      await here.agent.get('/manage/account/').expect(200);
      await elsewhere.agent.get('/manage/account/').expect(303);
      await login(t, { ...carol, password: 'brand new passphrase' });
      await expect(login(t, carol)).rejects.toThrow(/sign-in of .* failed: 400/);
    });

    it('resets a forgotten password by e-mail link, once', async () => {
      const dave = await createUser(t);
      const signedIn = await login(t, dave);
      const { agent, csrf } = await form('/account/reset-password/');
      const asked = await agent
        .post('/account/reset-password/')
        .type('form')
        .send({ csrf_token: csrf, username_or_email: dave.email.toUpperCase() })
        .expect(200);
      expect(asked.text).toContain('If an account matches');
      const link = linkIn(lastMailTo(dave.email));
      const page = await agent.get(link).expect(200);
      const token = /name="token" value="([^"]+)"/.exec(page.text)![1];
      await agent
        .post('/account/reset-password/confirm/')
        .type('form')
        .send({
          csrf_token: csrf,
          token,
          new_password: 'reset passphrase here',
          password_confirm: 'reset passphrase here',
        })
        .expect(200);
      await login(t, { ...dave, password: 'reset passphrase here' });
      // Every old session is gone, and the link does not work twice.
      await signedIn.agent.get('/manage/account/').expect(303);
      await agent.get(link).expect(400);
      await agent
        .post('/account/reset-password/confirm/')
        .type('form')
        .send({
          csrf_token: csrf,
          token,
          new_password: 'another reset phrase',
          password_confirm: 'another reset phrase',
        })
        .expect(400);
    });

    it('answers a reset request for an unknown account exactly like a known one, and sends nothing', async () => {
      const before = outbox.length;
      const { agent, csrf } = await form('/account/reset-password/');
      const res = await agent
        .post('/account/reset-password/')
        .type('form')
        .send({ csrf_token: csrf, username_or_email: 'nobody@nowhere.test' })
        .expect(200);
      expect(res.text).toContain('If an account matches');
      expect(outbox.length).toBe(before);
    });
  });

  describe('failed sign-ins', () => {
    it('are rate limited per account in Postgres: 429 with Retry-After, even for the right password', async () => {
      const erin = await createUser(t);
      const { agent, csrf } = await form('/account/login/');
      for (let i = 0; i < 3; i++) {
        await agent
          .post('/account/login/')
          .type('form')
          .send({ csrf_token: csrf, username: erin.username, password: `wrong-${i}-guess` })
          .expect(400);
      }
      const limited = await agent
        .post('/account/login/')
        .type('form')
        .send({ csrf_token: csrf, username: erin.username, password: erin.password })
        .expect(429);
      const retry = Number(limited.headers['retry-after']);
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(15 * 60);
      expect(limited.text).toContain('Too many failed sign-in attempts');
      expect(
        await t.dataSource
          .getRepository(LoginFailure)
          .countBy({ key: `account:${erin.username.toLowerCase()}` }),
      ).toBe(3);
      // Once the failures leave the window, the right password works again.
      await t.dataSource
        .getRepository(LoginFailure)
        .update(
          { key: `account:${erin.username.toLowerCase()}` },
          { createdAt: new Date(Date.now() - 16 * 60_000) },
        );
      await login(t, erin);
    });

    it('refuse a disabled account even with the right password', async () => {
      const gus = await createUser(t, { disabled: true });
      const { agent, csrf } = await form('/account/login/');
      const res = await agent
        .post('/account/login/')
        .type('form')
        .send({ csrf_token: csrf, username: gus.username, password: gus.password })
        .expect(400);
      expect(res.text).toContain('disabled');
    });
  });

  describe('re-authentication', () => {
    it('asks for the password before creating a token when the sign-in is older than 15 minutes', async () => {
      const hal = await createUser(t);
      const { agent, csrf } = await login(t, hal);
      await t.dataSource
        .getRepository(Session)
        .update({ userId: hal.user.id }, { authenticatedAt: new Date(Date.now() - 16 * 60_000) });
      const list = await agent.get('/manage/account/token/').expect(200);
      expect(list.text).toContain('name="confirm_password"');
      await agent
        .post('/manage/account/token/')
        .type('form')
        .send({ csrf_token: csrf, name: 'late', scope: 'account' })
        .expect(403);
      await agent
        .post('/manage/account/token/')
        .type('form')
        .send({ csrf_token: csrf, name: 'late', scope: 'account', confirm_password: hal.password })
        .expect(200);
      // The confirmation renews the sign-in time: the next change needs no password.
      const fresh = await agent.get('/manage/account/token/').expect(200);
      expect(fresh.text).not.toContain('name="confirm_password"');
    });
  });
});

describe('closed registration', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 404 on /account/register/ and does not offer it', async () => {
    await t.http().get('/account/register/').set('Accept', 'text/html').expect(404);
    const agent = request.agent(t.app.getHttpServer());
    const login = await agent.get('/account/login/').expect(200);
    expect(login.text).not.toContain('/account/register/');
    await agent
      .post('/account/register/')
      .type('form')
      .send({
        csrf_token: csrfFrom(login.text),
        username: 'sneaky',
        email: 'sneaky@x.test',
        password: 'a fine long passphrase',
        password_confirm: 'a fine long passphrase',
      })
      .expect(404);
    expect(await t.dataSource.getRepository(User).count()).toBe(0);
  });
});
