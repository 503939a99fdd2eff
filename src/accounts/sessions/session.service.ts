import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, LessThan, MoreThan } from 'typeorm';
import { CONFIG } from '../../config/config.module.js';
import type { Config } from '../../config/config.js';
import type { User } from '../users/user.entity.js';
import { Session, type SessionData } from './session.entity.js';

/** Sensitive changes need the password when the last sign-in is older than this (issue 3). */
export const REAUTH_AFTER_MS = 15 * 60 * 1000;
/** `last_seen_at` is written at most this often: one write per minute per browser, not per request. */
const TOUCH_EVERY_MS = 60 * 1000;

export const SESSION_COOKIE = 'larder_session';

function sessionId(cookieValue: string): string {
  return createHash('sha256').update(cookieValue).digest('hex');
}

export interface SessionWithUser {
  session: Session;
  user: User;
}

@Injectable()
export class SessionService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  get idleMs(): number {
    return this.config.session.idleMinutes * 60_000;
  }

  get maxMs(): number {
    return this.config.session.maxHours * 3_600_000;
  }

  /**
   * Starts a session for `user` with a new random id (never one the browser brought: no
   * session fixation). Returns the cookie value; only its hash is stored.
   */
  async start(
    user: User,
    options: { twoFactorMethod: string; userAgent: string | null },
  ): Promise<{ cookieValue: string; session: Session }> {
    const cookieValue = randomBytes(32).toString('base64url');
    const now = new Date();
    const session = new Session();
    session.id = sessionId(cookieValue);
    session.userId = user.id;
    session.createdAt = now;
    session.lastSeenAt = now;
    session.authenticatedAt = now;
    session.twoFactorMethod = options.twoFactorMethod;
    session.data = {};
    session.userAgent = options.userAgent;
    await this.dataSource.manager.save(session);
    // Housekeeping: this user's sessions that have run out.
    await this.dataSource
      .createQueryBuilder()
      .delete()
      .from(Session)
      .where('user_id = :userId', { userId: user.id })
      .andWhere('(last_seen_at < :idle OR created_at < :max)', {
        idle: new Date(now.getTime() - this.idleMs),
        max: new Date(now.getTime() - this.maxMs),
      })
      .execute();
    return { cookieValue, session };
  }

  /** The live session behind a cookie, with its user; `null` when unknown, expired or disabled. */
  async resume(cookieValue: string): Promise<SessionWithUser | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(cookieValue)) return null;
    const session = await this.dataSource.manager.findOne(Session, {
      where: { id: sessionId(cookieValue) },
      relations: { user: true },
    });
    if (!session?.user) return null;
    const now = Date.now();
    const expired =
      now - session.lastSeenAt.getTime() > this.idleMs ||
      now - session.createdAt.getTime() > this.maxMs;
    if (expired || session.user.isDisabled) {
      await this.dataSource.manager.delete(Session, { id: session.id });
      return null;
    }
    if (now - session.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
      session.lastSeenAt = new Date(now);
      await this.dataSource.manager.update(
        Session,
        { id: session.id },
        { lastSeenAt: session.lastSeenAt },
      );
    }
    const { user, ...rest } = session;
    return { session: Object.assign(new Session(), rest), user };
  }

  async end(session: Session): Promise<void> {
    await this.dataSource.manager.delete(Session, { id: session.id });
  }

  /** The user's sessions that are still valid, most recently used first. */
  async listActive(userId: string): Promise<Session[]> {
    const now = Date.now();
    const sessions = await this.dataSource.manager.find(Session, {
      where: {
        userId,
        lastSeenAt: MoreThan(new Date(now - this.idleMs)),
        createdAt: MoreThan(new Date(now - this.maxMs)),
      },
      order: { lastSeenAt: 'DESC' },
    });
    return sessions;
  }

  /**
   * Ends the user's sessions whose {@link sessionHandle} is in `handles` (all but `keep` when
   * `handles` is `'others'`). Never another user's: the handle is looked up among `userId`'s.
   */
  async endSessions(userId: string, handles: string[] | 'others', keep: string): Promise<number> {
    const mine = await this.dataSource.manager.find(Session, { where: { userId } });
    const ending = mine.filter(
      (s) => s.id !== keep && (handles === 'others' || handles.includes(sessionHandle(s))),
    );
    if (ending.length)
      await this.dataSource.manager.delete(
        Session,
        ending.map((s) => s.id),
      );
    return ending.length;
  }

  isRecentlyAuthenticated(session: Session): boolean {
    return Date.now() - session.authenticatedAt.getTime() < REAUTH_AFTER_MS;
  }

  async markAuthenticated(session: Session): Promise<void> {
    session.authenticatedAt = new Date();
    await this.dataSource.manager.update(
      Session,
      { id: session.id },
      { authenticatedAt: session.authenticatedAt },
    );
  }

  async setData(session: Session, data: SessionData): Promise<void> {
    session.data = data;
    await this.dataSource.manager.update(Session, { id: session.id }, { data });
  }

  /** Removes sessions past their lifetime (also done per user at sign-in). */
  async prune(): Promise<void> {
    const now = Date.now();
    await this.dataSource.manager.delete(Session, {
      lastSeenAt: LessThan(new Date(now - this.idleMs)),
    });
    await this.dataSource.manager.delete(Session, {
      createdAt: LessThan(new Date(now - this.maxMs)),
    });
  }
}

/**
 * What pages name a session by: a digest of its stored id, so forms never carry the id itself
 * (itself only a hash of the cookie, but nothing a page needs).
 */
export function sessionHandle(session: Session): string {
  return createHash('sha256').update(`session-handle:${session.id}`).digest('hex').slice(0, 24);
}
