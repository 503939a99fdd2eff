import { Writable } from 'node:stream';
import { generate } from 'otplib';
import request from 'supertest';
import { Mailer, type OutgoingMail } from '../src/accounts/emails/mailer.service.js';
import { AuthProbeModule } from './helpers/auth-probe.module.js';
import { basicAuth, csrfFrom } from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/**
 * Walks every flow that handles a secret — passwords, API token values, the TOTP secret,
 * recovery codes, session cookies — with logging at `trace`, then checks that none of them is
 * in any log line, nor in any page served after the one that showed it.
 */
describe('secrets stay secret', () => {
  let t: TestApp;
  let log = '';
  const outbox: OutgoingMail[] = [];
  const secrets: string[] = [];
  const pagesAfterCreation: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({
      imports: [AuthProbeModule],
      env: { LARDER_REGISTRATION: 'open', LARDER_LOG_LEVEL: 'trace' },
      logDestination: new Writable({
        write(chunk, _encoding, done) {
          log += chunk.toString();
          done();
        },
      }),
    });
    t.app.get(Mailer).onSend((mail) => outbox.push(mail));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('walks sign-up, sign-in, tokens, two-factor, password change and reset', async () => {
    const agent = request.agent(t.app.getHttpServer());
    const keep = (text: string) => pagesAfterCreation.push(text);
    const passwords = [
      'first secret passphrase',
      'wrong secret passphrase',
      'second secret passphrase',
      'third secret passphrase',
    ];
    secrets.push(...passwords);

    let page = await agent.get('/account/register/').expect(200);
    let csrf = csrfFrom(page.text);
    const signup = await agent
      .post('/account/register/')
      .type('form')
      .send({
        csrf_token: csrf,
        username: 'keeper',
        email: 'keeper@example.test',
        password: passwords[0],
        password_confirm: passwords[0],
      })
      .expect(303);
    const cookie = /larder_session=([^;]+)/.exec(String(signup.headers['set-cookie']))![1];
    secrets.push(cookie);
    page = await agent.get('/manage/account/').expect(200);
    keep(page.text);
    csrf = csrfFrom(page.text);

    // A wrong password on a separate browser.
    const other = request.agent(t.app.getHttpServer());
    const loginPage = await other.get('/account/login/').expect(200);
    keep(
      (
        await other
          .post('/account/login/')
          .type('form')
          .send({
            csrf_token: csrfFrom(loginPage.text),
            username: 'keeper',
            password: passwords[1],
          })
          .expect(400)
      ).text,
    );

    // An API token: shown once, then used, and a wrong one refused.
    const created = await agent
      .post('/manage/account/token/')
      .type('form')
      .send({ csrf_token: csrf, name: 'ci', scope: 'account' })
      .expect(200);
    const token = /class="token-value">(larder-[^<]+)</.exec(created.text)![1];
    secrets.push(token);
    await t.http().get('/probe-auth/whoami').set('Authorization', basicAuth(token)).expect(200);
    const badToken = token.slice(0, -2) + 'zz';
    secrets.push(badToken);
    keep(
      (
        await t
          .http()
          .get('/probe-auth/whoami')
          .set('Authorization', basicAuth(badToken))
          .expect(403)
      ).text,
    );
    keep((await agent.get('/manage/account/token/').expect(200)).text);

    // Two-factor: the secret and the recovery codes are shown once.
    const setup = await agent.get('/manage/account/two-factor/totp').expect(200);
    const secret = /Enter this key: <code>([A-Z2-7]+)<\/code>/.exec(setup.text)![1];
    secrets.push(secret);
    const codesPage = await agent
      .post('/manage/account/two-factor/totp')
      .type('form')
      .send({ csrf_token: csrf, totp_value: await generate({ secret }) })
      .expect(200);
    const codes = [...codesPage.text.matchAll(/<li><code>([0-9a-f-]{19})<\/code><\/li>/g)].map(
      (m) => m[1],
    );
    secrets.push(...codes, ...codes.map((c) => c.replace(/-/g, '')));
    keep((await agent.get('/manage/account/security/').expect(200)).text);
    keep((await agent.get('/manage/account/two-factor/totp').expect(400)).text);

    // Sign in with the second factor, then with a recovery code.
    for (const factor of [
      { totp_value: await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }) },
      { recovery_code: codes[0] },
    ]) {
      const browser = request.agent(t.app.getHttpServer());
      const form = await browser.get('/account/login/').expect(200);
      const step = await browser
        .post('/account/login/')
        .type('form')
        .send({ csrf_token: csrfFrom(form.text), username: 'keeper', password: passwords[0] })
        .expect(200);
      const ticket = /name="ticket" value="([^"]+)"/.exec(step.text)![1];
      await browser
        .post('/account/two-factor/')
        .type('form')
        .send({ csrf_token: csrfFrom(step.text), ticket, ...factor })
        .expect(303);
      keep((await browser.get('/manage/account/').expect(200)).text);
    }

    // Change the password, then reset it by e-mail.
    await agent
      .post('/manage/account/password')
      .type('form')
      .send({
        csrf_token: csrf,
        current_password: passwords[0],
        new_password: passwords[2],
        password_confirm: passwords[2],
      })
      .expect(303);
    const resetForm = await agent.get('/account/reset-password/').expect(200);
    await agent
      .post('/account/reset-password/')
      .type('form')
      .send({ csrf_token: csrfFrom(resetForm.text), username_or_email: 'keeper' })
      .expect(200);
    const link = /(\/account\/reset-password\/confirm\/\?token=\S+)/.exec(outbox.at(-1)!.text)![1];
    const resetPage = await agent.get(link).expect(200);
    await agent
      .post('/account/reset-password/confirm/')
      .type('form')
      .send({
        csrf_token: csrfFrom(resetPage.text),
        token: /name="token" value="([^"]+)"/.exec(resetPage.text)![1],
        new_password: passwords[3],
        password_confirm: passwords[3],
      })
      .expect(200);
    // The reset link's token is a capability: the access log leaves it out. (Without
    // LARDER_SMTP_URL the e-mail itself is logged for the operator, by design.)
    const accessLog = log.split('\n').filter((line) => line.includes('"msg":"request"'));
    expect(accessLog.join('\n')).toContain('/account/reset-password/confirm/?token=[redacted]');
    expect(accessLog.join('\n')).not.toContain(link.split('token=')[1].slice(0, 40));
  });

  it('finds none of them in the logs', () => {
    expect(log.length).toBeGreaterThan(1000);
    expect(log).toContain('"msg":"request"');
    for (const secret of secrets) expect(log).not.toContain(secret);
  });

  it('finds none of them in pages served after the one that showed them', () => {
    expect(pagesAfterCreation.length).toBeGreaterThan(5);
    for (const page of pagesAfterCreation) {
      for (const secret of secrets) expect(page).not.toContain(secret);
    }
  });
});
