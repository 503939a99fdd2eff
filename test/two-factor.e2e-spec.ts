import { generate } from 'otplib';
import request from 'supertest';
import { RecoveryCode } from '../src/accounts/two-factor/recovery-code.entity.js';
import { TotpMethod } from '../src/accounts/two-factor/totp-method.entity.js';
import { Session } from '../src/accounts/sessions/session.entity.js';
import { createUser, csrfFrom, login, type TestUser } from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/** The TOTP code of `secret` for the 30-second step `offset` steps from now. */
function totp(secret: string, offset = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * 30 });
}

describe('two-factor authentication', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Enrols TOTP through the pages; returns the secret (read from the enrolment page) and codes. */
  async function enrol(who: TestUser) {
    const { agent, csrf } = await login(t, who);
    const page = await agent.get('/manage/account/two-factor/totp').expect(200);
    expect(page.text).toMatch(/<img class="qr" src="data:image\/svg\+xml;base64,/);
    const secret = /Enter this key: <code>([A-Z2-7]+)<\/code>/.exec(page.text)![1];
    const svg = Buffer.from(
      /src="data:image\/svg\+xml;base64,([^"]+)"/.exec(page.text)![1],
      'base64',
    ).toString();
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const wrong = await agent
      .post('/manage/account/two-factor/totp')
      .type('form')
      .send({
        csrf_token: csrf,
        totp_value: '000000' === (await totp(secret)) ? '111111' : '000000',
      })
      .expect(400);
    expect(wrong.text).toContain('That code is not right');
    const done = await agent
      .post('/manage/account/two-factor/totp')
      .type('form')
      .send({ csrf_token: csrf, totp_value: await totp(secret) })
      .expect(200);
    const codes = [...done.text.matchAll(/<li><code>([0-9a-f-]{19})<\/code><\/li>/g)].map(
      (m) => m[1],
    );
    expect(codes).toHaveLength(10);
    return { agent, csrf, secret, codes };
  }

  async function passwordStep(who: TestUser) {
    const agent = request.agent(t.app.getHttpServer());
    const page = await agent.get('/account/login/').expect(200);
    const res = await agent
      .post('/account/login/')
      .type('form')
      .send({ username: who.username, password: who.password, csrf_token: csrfFrom(page.text) })
      .expect(200);
    expect(res.text).toContain('Two-factor authentication');
    const ticket = /name="ticket" value="([^"]+)"/.exec(res.text)![1];
    return { agent, ticket, csrf: csrfFrom(res.text) };
  }

  it('enrols with a QR code and a confirmation code, stores the secret encrypted and the codes hashed', async () => {
    const alice = await createUser(t);
    const { secret, codes } = await enrol(alice);
    const method = await t.dataSource
      .getRepository(TotpMethod)
      .findOneByOrFail({ userId: alice.user.id });
    expect(method.secretEncrypted).not.toContain(secret);
    const rows = await t.dataSource.getRepository(RecoveryCode).findBy({ userId: alice.user.id });
    expect(rows).toHaveLength(10);
    const stored = JSON.stringify(rows);
    for (const code of codes) expect(stored).not.toContain(code.replace(/-/g, ''));
    // The pending secret is gone from the session once confirmed.
    const sessions = await t.dataSource.getRepository(Session).findBy({ userId: alice.user.id });
    expect(sessions.every((s) => s.data.pendingTotp === undefined)).toBe(true);
  });

  it('asks for the second factor at sign-in, and refuses a replayed code', async () => {
    const bob = await createUser(t);
    const { secret } = await enrol(bob);
    // The enrolment used this step's code; the next step's is within the accepted drift.
    const code = await totp(secret, 1);
    const first = await passwordStep(bob);
    // No session until the second factor is given.
    await first.agent.get('/manage/account/').expect(303);
    const ok = await first.agent
      .post('/account/two-factor/')
      .type('form')
      .send({ csrf_token: first.csrf, ticket: first.ticket, totp_value: code })
      .expect(303);
    expect(ok.headers.location).toBe('/manage/account/');
    await first.agent.get('/manage/account/').expect(200);
    const again = await passwordStep(bob);
    const replay = await again.agent
      .post('/account/two-factor/')
      .type('form')
      .send({ csrf_token: again.csrf, ticket: again.ticket, totp_value: code })
      .expect(400);
    expect(replay.text).toContain('already used');
    await again.agent.get('/manage/account/').expect(303);
  });

  it('refuses a wrong code and a forged ticket', async () => {
    const carol = await createUser(t);
    const { secret } = await enrol(carol);
    const step = await passwordStep(carol);
    const good = await totp(secret, 1);
    const wrong = good === '123456' ? '654321' : '123456';
    await step.agent
      .post('/account/two-factor/')
      .type('form')
      .send({ csrf_token: step.csrf, ticket: step.ticket, totp_value: wrong })
      .expect(400);
    const forged = step.ticket.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    const res = await step.agent
      .post('/account/two-factor/')
      .type('form')
      .send({ csrf_token: step.csrf, ticket: forged, totp_value: good })
      .expect(400);
    expect(res.text).toContain('enter your password again');
  });

  it('accepts each recovery code once', async () => {
    const dave = await createUser(t);
    const { codes } = await enrol(dave);
    const first = await passwordStep(dave);
    await first.agent
      .post('/account/two-factor/')
      .type('form')
      .send({ csrf_token: first.csrf, ticket: first.ticket, recovery_code: codes[0] })
      .expect(303);
    await first.agent.get('/manage/account/').expect(200);
    const second = await passwordStep(dave);
    const burned = await second.agent
      .post('/account/two-factor/')
      .type('form')
      .send({ csrf_token: second.csrf, ticket: second.ticket, recovery_code: codes[0] })
      .expect(400);
    expect(burned.text).toContain('already used');
    const invalid = await second.agent
      .post('/account/two-factor/')
      .type('form')
      .send({
        csrf_token: second.csrf,
        ticket: second.ticket,
        recovery_code: 'ffff-ffff-ffff-ffff',
      })
      .expect(400);
    expect(invalid.text).toContain('not right');
    const security = await first.agent.get('/manage/account/security/').expect(200);
    expect(security.text).toContain('9 of 10 unused');
  });

  it('regenerates recovery codes: the old ones stop working', async () => {
    const erin = await createUser(t);
    const { agent, csrf, codes } = await enrol(erin);
    const res = await agent
      .post('/manage/account/recovery-codes')
      .type('form')
      .send({ csrf_token: csrf })
      .expect(200);
    const fresh = [...res.text.matchAll(/<li><code>([0-9a-f-]{19})<\/code><\/li>/g)].map(
      (m) => m[1],
    );
    expect(fresh).toHaveLength(10);
    expect(fresh).not.toContain(codes[0]);
    const step = await passwordStep(erin);
    await step.agent
      .post('/account/two-factor/')
      .type('form')
      .send({ csrf_token: step.csrf, ticket: step.ticket, recovery_code: codes[0] })
      .expect(400);
    await step.agent
      .post('/account/two-factor/')
      .type('form')
      .send({ csrf_token: step.csrf, ticket: step.ticket, recovery_code: fresh[0] })
      .expect(303);
  });

  it('asks for the password again to remove 2FA when the sign-in is older than 15 minutes', async () => {
    const fay = await createUser(t);
    const { agent, csrf } = await enrol(fay);
    await t.dataSource
      .getRepository(Session)
      .update({ userId: fay.user.id }, { authenticatedAt: new Date(Date.now() - 16 * 60_000) });
    const page = await agent.get('/manage/account/security/').expect(200);
    expect(page.text).toContain('name="confirm_password"');
    const refused = await agent
      .post('/manage/account/two-factor/totp/remove')
      .type('form')
      .send({ csrf_token: csrf })
      .expect(403);
    expect(refused.text).toContain('Confirm your password');
    await agent
      .post('/manage/account/two-factor/totp/remove')
      .type('form')
      .send({ csrf_token: csrf, confirm_password: 'wrong-password' })
      .expect(400);
    expect(await t.dataSource.getRepository(TotpMethod).countBy({ userId: fay.user.id })).toBe(1);
    await agent
      .post('/manage/account/two-factor/totp/remove')
      .type('form')
      .send({ csrf_token: csrf, confirm_password: fay.password })
      .expect(303);
    expect(await t.dataSource.getRepository(TotpMethod).countBy({ userId: fay.user.id })).toBe(0);
    expect(await t.dataSource.getRepository(RecoveryCode).countBy({ userId: fay.user.id })).toBe(0);
    // Signed in with the password alone again.
    await login(t, fay);
  });
});
