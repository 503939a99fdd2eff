import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CONFIG } from '../../config/config.module.js';
import type { Config } from '../../config/config.js';
import { LoginFailure } from './login-failure.entity.js';

/** 429 with the number of seconds until the oldest counted failure leaves the window. */
export class TooManyAttemptsError extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    super(
      `Too many failed sign-in attempts. Try again in ${Math.ceil(retryAfterSeconds / 60)} minute(s).`,
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

export function accountKey(username: string): string {
  return `account:${username.trim().toLowerCase().slice(0, 100)}`;
}

export function ipKey(ip: string | null): string | null {
  return ip ? `ip:${ip}` : null;
}

/**
 * Failed sign-ins counted in Postgres per account and per client IP over a sliding window
 * (LARDER_LOGIN_FAILURES_*), so every app node sees the same count. Checked before the
 * password is verified: a locked account does not even tell whether a guess was right.
 */
@Injectable()
export class LoginLimiter {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  private get windowMs(): number {
    return this.config.loginLimits.windowMinutes * 60_000;
  }

  /** Throws {@link TooManyAttemptsError} when either key has used up its failures. */
  async check(username: string, ip: string | null): Promise<void> {
    const limits: [string | null, number][] = [
      [accountKey(username), this.config.loginLimits.perAccount],
      [ipKey(ip), this.config.loginLimits.perIp],
    ];
    const since = new Date(Date.now() - this.windowMs);
    let retryAfter = 0;
    for (const [key, limit] of limits) {
      if (!key) continue;
      // Uses IDX_login_failures_key_created_at.
      const rows: { count: string; oldest: Date | null }[] = await this.dataSource.query(
        `SELECT count(*) AS count, min(created_at) AS oldest FROM (
           SELECT created_at FROM login_failures WHERE key = $1 AND created_at > $2
           ORDER BY created_at DESC LIMIT $3) recent`,
        [key, since, limit],
      );
      const { count, oldest } = rows[0];
      if (Number(count) >= limit && oldest) {
        const wait = Math.ceil((new Date(oldest).getTime() + this.windowMs - Date.now()) / 1000);
        retryAfter = Math.max(retryAfter, wait, 1);
      }
    }
    if (retryAfter > 0) throw new TooManyAttemptsError(retryAfter);
  }

  async recordFailure(username: string, ip: string | null): Promise<void> {
    const keys = [accountKey(username), ipKey(ip)].filter((key): key is string => key !== null);
    await this.dataSource.manager.insert(
      LoginFailure,
      keys.map((key) => ({ key })),
    );
    // Housekeeping: rows past the window count for nobody.
    await this.dataSource
      .createQueryBuilder()
      .delete()
      .from(LoginFailure)
      .where('created_at < :before', { before: new Date(Date.now() - this.windowMs) })
      .execute();
  }

  /** A successful sign-in forgives the account's earlier failures (not the IP's). */
  async clearAccount(username: string): Promise<void> {
    await this.dataSource.manager.delete(LoginFailure, { key: accountKey(username) });
  }
}
