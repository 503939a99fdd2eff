import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { runAsSystem } from '../../src/context/request-context.js';
import { Mailer, type OutgoingMail } from '../../src/accounts/emails/mailer.service.js';
import { TokenService, type NewToken } from '../../src/accounts/tokens/token.service.js';
import type { User } from '../../src/accounts/users/user.entity.js';
import { UserService } from '../../src/accounts/users/user.service.js';
import type { TestApp } from './test-app.js';

/**
 * Small builders of test data. Each makes exactly what a test asks for, through the same
 * services production uses (hooks included), acting as the `system` actor.
 */

let counter = 0;

export interface TestUser {
  user: User;
  username: string;
  /** The clear-text password, so tests can sign in with it. */
  password: string;
  email: string;
}

export interface UserOptions {
  username?: string;
  password?: string;
  email?: string;
  admin?: boolean;
  disabled?: boolean;
}

/** A user with a password and a primary e-mail (unverified). Unique names unless given. */
export async function createUser(t: TestApp, options: UserOptions = {}): Promise<TestUser> {
  counter += 1;
  const username = options.username ?? `user${counter}-${randomBytes(3).toString('hex')}`;
  const password = options.password ?? `Pw-${randomBytes(9).toString('base64url')}`;
  const email = options.email ?? `${username.toLowerCase()}@example.test`;
  const users = t.app.get(UserService);
  const user = await runAsSystem('test:create-user', async () => {
    const created = await users.create(
      { username, email, password, isAdmin: options.admin ?? false },
      { byAdmin: true },
    );
    if (options.disabled) await users.setDisabled(created, true, 'test');
    return created;
  });
  return { user, username, password, email };
}

/** The CSRF token a page carries in its forms (`<input name="csrf_token">`). */
export function csrfFrom(html: string): string {
  const match = /name="csrf_token" value="([0-9a-f]{64})"/.exec(html);
  if (!match) throw new Error('no CSRF token on this page');
  return match[1];
}

export interface SignedInAgent {
  /** A supertest agent carrying the session cookie. */
  agent: ReturnType<typeof request.agent>;
  /** The CSRF token of this session: send it as the `csrf_token` form field. */
  csrf: string;
  user: User;
}

/**
 * Signs `who` in through the real sign-in form (password only: for accounts with two-factor,
 * drive `/account/two-factor/` yourself) and returns an agent with the session cookie and
 * its CSRF token.
 */
export async function login(t: TestApp, who: TestUser): Promise<SignedInAgent> {
  const agent = request.agent(t.app.getHttpServer());
  const page = await agent.get('/account/login/').expect(200);
  const res = await agent
    .post('/account/login/')
    .type('form')
    .send({ username: who.username, password: who.password, csrf_token: csrfFrom(page.text) });
  if (res.status !== 303) {
    throw new Error(`sign-in of ${who.username} failed: ${res.status} ${res.text.slice(0, 300)}`);
  }
  const account = await agent.get('/manage/account/').expect(200);
  return { agent, csrf: csrfFrom(account.text), user: who.user };
}

/** An API token for `user`; returns its value (`larder-…`) and id. */
export async function createToken(
  t: TestApp,
  user: User,
  options: Partial<NewToken> = {},
): Promise<{ value: string; id: string }> {
  const tokens = t.app.get(TokenService);
  const { token, value } = await runAsSystem('test:create-token', () =>
    tokens.create(user, { name: options.name ?? 'test token', ...options }),
  );
  return { value, id: token.id };
}

/** `Authorization` header value for HTTP Basic with an API token, as twine and pip send it. */
export function basicAuth(token: string, username = '__token__'): string {
  return `Basic ${Buffer.from(`${username}:${token}`).toString('base64')}`;
}

/** Collects every e-mail the core sends from now on (links to verify or reset), for plugin tests too. */
export function captureMail(t: TestApp): OutgoingMail[] {
  const outbox: OutgoingMail[] = [];
  t.app.get(Mailer).onSend((mail) => outbox.push(mail));
  return outbox;
}
