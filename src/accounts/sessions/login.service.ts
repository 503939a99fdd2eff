import { Injectable } from '@nestjs/common';
import { requestContext } from '../../context/request-context.js';
import { HookBus } from '../../hooks/hook-bus.js';
import { AccountInputError, ReauthenticationRequiredError } from '../account.errors.js';
import { KeyRing } from '../key-ring.js';
import { TwoFactorService } from '../two-factor/two-factor.service.js';
import { PasswordService } from '../users/password.service.js';
import type { User } from '../users/user.entity.js';
import { userRef } from '../users/user.refs.js';
import { UserService } from '../users/user.service.js';
import { LoginLimiter } from './login-limiter.service.js';
import type { Session } from './session.entity.js';
import { SessionService } from './session.service.js';

/** How long the second-factor form stays valid after the password step. */
const TICKET_TTL_SECONDS = 5 * 60;

/** One message for every wrong password or unknown user: sign-in does not reveal accounts. */
export const INVALID_CREDENTIALS = 'The username or password is not right.';

export type LoginResult =
  | { kind: 'signed-in'; cookieValue: string; user: User }
  /** Password accepted; the second factor is due. `ticket` is signed and short-lived. */
  | { kind: 'second-factor'; ticket: string };

export type SecondFactor = { totp: string } | { recoveryCode: string };

/**
 * Sign-in, sign-out and re-authentication. Each outcome emits `account.login` /
 * `account.logout` / `account.reauthenticated` (no row changes, so `emit`).
 */
@Injectable()
export class LoginService {
  constructor(
    private readonly users: UserService,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionService,
    private readonly limiter: LoginLimiter,
    private readonly twoFactor: TwoFactorService,
    private readonly keys: KeyRing,
    private readonly hooks: HookBus,
  ) {}

  async passwordStep(username: string, password: string): Promise<LoginResult> {
    const ip = requestContext().ip;
    await this.limiter.check(username, ip);
    const user = await this.users.findByUsername(username);
    const ok = await this.passwords.verify(user?.passwordHash ?? null, password);
    if (!user || !ok) {
      await this.fail(username, user, 'password', user ? 'invalid_password' : 'unknown_user');
      throw new AccountInputError(INVALID_CREDENTIALS);
    }
    if (user.isDisabled) {
      await this.fail(username, user, 'password', 'disabled_account');
      throw new AccountInputError('This account is disabled. Ask an administrator.');
    }
    if (await this.twoFactor.isEnabled(user.id)) {
      const ticket = this.keys.sign(
        'two-factor-login',
        { u: user.id, p: user.passwordChangedAt?.getTime() ?? 0 },
        TICKET_TTL_SECONDS,
      );
      return { kind: 'second-factor', ticket };
    }
    return this.succeed(user, 'password', 'none');
  }

  async secondFactorStep(ticket: string, factor: SecondFactor): Promise<LoginResult> {
    const payload = this.keys.verify<{ u: string; p: number }>('two-factor-login', ticket);
    const user = payload ? await this.users.findById(payload.u) : null;
    if (!payload || !user || (user.passwordChangedAt?.getTime() ?? 0) !== payload.p) {
      throw new AccountInputError('The sign-in has expired: enter your password again.');
    }
    await this.limiter.check(user.username, requestContext().ip);
    if (user.isDisabled) {
      await this.fail(user.username, user, 'password', 'disabled_account');
      throw new AccountInputError('This account is disabled. Ask an administrator.');
    }
    if ('totp' in factor) {
      if (!(await this.twoFactor.verifyTotp(user, factor.totp))) {
        await this.fail(user.username, user, 'totp', 'invalid_totp');
        throw new AccountInputError('That code is not right, or it was already used.');
      }
      return this.succeed(user, 'totp', 'totp');
    }
    const outcome = await this.twoFactor.useRecoveryCode(user, factor.recoveryCode);
    if (outcome !== 'ok') {
      await this.fail(user.username, user, 'recovery-code', outcome);
      throw new AccountInputError(
        outcome === 'burned_recovery_code'
          ? 'That recovery code was already used.'
          : 'That recovery code is not right.',
      );
    }
    return this.succeed(user, 'recovery-code', 'recovery-code');
  }

  async logout(session: Session, user: User): Promise<void> {
    await this.sessions.end(session);
    this.hooks.emit('account.logout', { user: userRef(user) });
  }

  /**
   * For sensitive changes: passes when the password was given within 15 minutes, or when
   * `password` is given now and right (which renews the session's sign-in time).
   */
  async ensureRecentAuth(session: Session, user: User, password?: string): Promise<void> {
    if (this.sessions.isRecentlyAuthenticated(session)) return;
    if (!password) throw new ReauthenticationRequiredError();
    await this.confirmPassword(session, user, password);
  }

  /** Checks the password of the signed-in user (rate limited like sign-in) and renews the sign-in time. */
  async confirmPassword(session: Session, user: User, password: string): Promise<void> {
    const ip = requestContext().ip;
    await this.limiter.check(user.username, ip);
    if (!(await this.passwords.verify(user.passwordHash, password))) {
      await this.limiter.recordFailure(user.username, ip);
      this.hooks.emit('account.reauthenticated', {
        user: userRef(user),
        outcome: 'failure',
        reason: 'invalid_password',
      });
      throw new AccountInputError('The password you confirmed with is not right.');
    }
    await this.sessions.markAuthenticated(session);
    this.hooks.emit('account.reauthenticated', { user: userRef(user), outcome: 'success' });
  }

  private async succeed(
    user: User,
    method: 'password' | 'totp' | 'recovery-code',
    twoFactorMethod: string,
  ): Promise<LoginResult> {
    await this.limiter.clearAccount(user.username);
    const { cookieValue } = await this.sessions.start(user, {
      twoFactorMethod,
      userAgent: requestContext().userAgent,
    });
    await this.users.recordLogin(user);
    this.hooks.emit('account.login', {
      user: userRef(user),
      usernameAttempted: user.username,
      outcome: 'success',
      method,
    });
    return { kind: 'signed-in', cookieValue, user };
  }

  private async fail(
    attempted: string,
    user: User | null,
    method: 'password' | 'totp' | 'recovery-code',
    reason: string,
  ): Promise<void> {
    await this.limiter.recordFailure(attempted, requestContext().ip);
    this.hooks.emit('account.login', {
      user: user ? userRef(user) : null,
      usernameAttempted: attempted.slice(0, 100),
      outcome: 'failure',
      method,
      reason,
    });
  }
}
