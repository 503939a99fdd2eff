import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import { DataSource, IsNull } from 'typeorm';
import { CONFIG } from '../../config/config.module.js';
import type { Config } from '../../config/config.js';
import { HookBus } from '../../hooks/hook-bus.js';
import { AccountInputError } from '../account.errors.js';
import { KeyRing } from '../key-ring.js';
import type { Session } from '../sessions/session.entity.js';
import { SessionService } from '../sessions/session.service.js';
import type { User } from '../users/user.entity.js';
import { userRef } from '../users/user.refs.js';
import { RecoveryCode } from './recovery-code.entity.js';
import { TotpMethod } from './totp-method.entity.js';

export const RECOVERY_CODE_COUNT = 10;
/** Codes of the previous and the next 30-second step are accepted too (clock drift). */
const TOLERANCE_SECONDS = 30;

export interface Enrolment {
  /** Base32, shown during enrolment only, for authenticator apps that cannot scan. */
  secret: string;
  uri: string;
  /** The QR code of `uri` as an SVG document, rendered on the server (no script, no remote image). */
  svg: string;
}

/** Outcome of a recovery code at sign-in, as the audit catalogue names failures. */
export type RecoveryOutcome = 'ok' | 'invalid_recovery_code' | 'burned_recovery_code';

function normalizeCode(code: string): string {
  return code.replace(/[\s-]/g, '').toLowerCase();
}

/**
 * TOTP (RFC 6238, via otplib) and single-use recovery codes. TOTP secrets are stored encrypted
 * and never leave the server after enrolment; a code from a step already used is refused.
 */
@Injectable()
export class TwoFactorService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hooks: HookBus,
    private readonly keys: KeyRing,
    private readonly sessions: SessionService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  method(userId: string): Promise<TotpMethod | null> {
    return this.dataSource.manager.findOneBy(TotpMethod, { userId });
  }

  async isEnabled(userId: string): Promise<boolean> {
    return this.dataSource.manager.existsBy(TotpMethod, { userId });
  }

  async unusedRecoveryCodes(userId: string): Promise<number> {
    return this.dataSource.manager.countBy(RecoveryCode, { userId, usedAt: IsNull() });
  }

  /** Starts (or continues) enrolment: the secret waits, encrypted, in the session until confirmed. */
  async beginEnrolment(session: Session, user: User): Promise<Enrolment> {
    if (await this.isEnabled(user.id)) {
      throw new AccountInputError('Two-factor authentication is already set up for your account.');
    }
    let secret = session.data.pendingTotp
      ? this.keys.decrypt('totp-secret', session.data.pendingTotp)
      : null;
    if (!secret) {
      secret = generateSecret();
      await this.sessions.setData(session, {
        ...session.data,
        pendingTotp: this.keys.encrypt('totp-secret', secret),
      });
    }
    const issuer = new URL(this.config.baseUrl).host;
    const uri = generateURI({ issuer: `Larder ${issuer}`, label: user.username, secret });
    const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { secret, uri, svg };
  }

  /**
   * Confirms enrolment with a code from the app (`account.2fa.added`), then issues the
   * recovery codes (`account.recovery-codes.generated`). Returns them: shown once.
   */
  async confirmEnrolment(session: Session, user: User, code: string): Promise<string[]> {
    const secret = session.data.pendingTotp
      ? this.keys.decrypt('totp-secret', session.data.pendingTotp)
      : null;
    if (!secret) throw new AccountInputError('Start the set-up again: the enrolment has expired.');
    const step = await this.check(secret, code, null);
    if (step === null) {
      throw new AccountInputError(
        'That code is not right: check the time on your device and try again.',
      );
    }
    const method = new TotpMethod();
    method.id = randomUUID();
    method.userId = user.id;
    method.secretEncrypted = this.keys.encrypt('totp-secret', secret);
    method.lastTimeStep = String(step);
    await this.hooks.perform(
      'account.2fa.added',
      { user: userRef(user), method: 'totp' },
      async (manager) => {
        if (await manager.existsBy(TotpMethod, { userId: user.id })) {
          throw new AccountInputError(
            'Two-factor authentication is already set up for your account.',
          );
        }
        await manager.save(method);
      },
    );
    const { pendingTotp: _done, ...rest } = session.data;
    await this.sessions.setData(session, rest);
    return this.generateRecoveryCodes(user, false);
  }

  /** Removes TOTP and the recovery codes (`account.2fa.removed`). Callers re-authenticate first. */
  async remove(user: User): Promise<void> {
    const method = await this.method(user.id);
    if (!method) throw new AccountInputError('Two-factor authentication is not set up.');
    await this.hooks.perform(
      'account.2fa.removed',
      { user: userRef(user), method: 'totp' },
      async (manager) => {
        const codes = await manager.findBy(RecoveryCode, { userId: user.id });
        await manager.remove(codes);
        await manager.remove(method);
      },
    );
  }

  /** Replaces all recovery codes with 10 new ones; returns them (shown once, stored hashed). */
  async generateRecoveryCodes(user: User, regenerated = true): Promise<string[]> {
    if (regenerated && !(await this.isEnabled(user.id))) {
      throw new AccountInputError('Set up two-factor authentication first.');
    }
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => randomBytes(8).toString('hex'));
    await this.hooks.perform(
      'account.recovery-codes.generated',
      { user: userRef(user), regenerated },
      async (manager) => {
        await manager.remove(await manager.findBy(RecoveryCode, { userId: user.id }));
        for (const code of codes) {
          const row = new RecoveryCode();
          row.userId = user.id;
          row.codeHash = this.hashCode(user.id, code);
          row.usedAt = null;
          await manager.save(row);
        }
      },
    );
    return codes;
  }

  /**
   * Whether `code` is the current TOTP of `user` and not a replay. The accepted step is
   * recorded with a conditional update, so two nodes cannot both accept one code.
   */
  async verifyTotp(user: User, code: string): Promise<boolean> {
    const method = await this.method(user.id);
    if (!method) return false;
    const secret = this.keys.decrypt('totp-secret', method.secretEncrypted);
    if (!secret) return false;
    const last = method.lastTimeStep === null ? null : Number(method.lastTimeStep);
    const step = await this.check(secret, code, last);
    if (step === null) return false;
    // Bookkeeping of the replay guard, not a change of the method: no entity listeners.
    const result = await this.dataSource
      .createQueryBuilder()
      .update(TotpMethod)
      .set({ lastTimeStep: String(step) })
      .where('id = :id', { id: method.id })
      .andWhere('(last_time_step IS NULL OR last_time_step < :step)', { step })
      .callListeners(false)
      .execute();
    return (result.affected ?? 0) === 1;
  }

  /** Spends a recovery code (`account.recovery-codes.used`) when it is valid and unused. */
  async useRecoveryCode(user: User, code: string): Promise<RecoveryOutcome> {
    const normalized = normalizeCode(code);
    if (!/^[0-9a-f]{16}$/.test(normalized)) return 'invalid_recovery_code';
    const row = await this.dataSource.manager.findOneBy(RecoveryCode, {
      userId: user.id,
      codeHash: this.hashCode(user.id, normalized),
    });
    if (!row) return 'invalid_recovery_code';
    if (row.usedAt) return 'burned_recovery_code';
    return this.hooks.perform(
      'account.recovery-codes.used',
      { user: userRef(user) },
      async (manager) => {
        // Re-read under a row lock: two sign-ins racing with one code get one success.
        const fresh = await manager.findOne(RecoveryCode, {
          where: { id: row.id },
          lock: { mode: 'pessimistic_write' },
        });
        if (!fresh || fresh.usedAt) return 'burned_recovery_code' as const;
        fresh.usedAt = new Date();
        await manager.save(fresh);
        return 'ok' as const;
      },
    );
  }

  private hashCode(userId: string, code: string): string {
    return this.keys.hash('recovery-code', `${userId}:${normalizeCode(code)}`);
  }

  /** The time step `code` belongs to, or `null`; steps at or before `after` do not count. */
  private async check(secret: string, code: string, after: number | null): Promise<number | null> {
    const token = code.replace(/\s/g, '');
    if (!/^\d{6}$/.test(token)) return null;
    const result = await verify({
      secret,
      token,
      epochTolerance: TOLERANCE_SECONDS,
      ...(after === null ? {} : { afterTimeStep: after }),
    });
    return result.valid && 'timeStep' in result ? result.timeStep : null;
  }
}
