import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { CookieOptions, NextFunction, Request, Response } from 'express';
import { CONFIG } from '../../config/config.module.js';
import type { Config } from '../../config/config.js';
import { setActor } from '../../context/request-context.js';
import { KeyRing } from '../key-ring.js';
import { CSRF_COOKIE, csrfTokenFor, newCsrfCookie } from './csrf.js';
import { SESSION_COOKIE, SessionService } from './session.service.js';

export function cookieOptions(config: Config): CookieOptions {
  return {
    httpOnly: true,
    sameSite: 'lax',
    secure: config.baseUrl.startsWith('https:'),
    path: '/',
  };
}

/**
 * Resumes the browser session on every request (pages, error pages and APIs alike), so the
 * header shows who is signed in and the guard finds `req.auth`. Sets the actor of the request
 * context, and `currentUser` / `csrfToken` for the layout. API tokens are checked by the guard.
 */
@Injectable()
export class SessionMiddleware implements NestMiddleware {
  constructor(
    private readonly sessions: SessionService,
    private readonly keys: KeyRing,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    try {
      req.auth = { kind: 'anonymous' };
      const cookies = (req.cookies ?? {}) as Record<string, string | undefined>;
      const value = cookies[SESSION_COOKIE];
      const resumed =
        value && !req.headers.authorization ? await this.sessions.resume(value) : null;
      if (resumed) {
        const { session, user } = resumed;
        req.auth = { kind: 'session', session, user };
        setActor({
          kind: 'user',
          userId: user.id,
          username: user.username,
          isAdmin: user.isAdmin,
          twoFactorMethod: session.twoFactorMethod,
        });
        res.locals.currentUser = { username: user.username, isAdmin: user.isAdmin };
        res.locals.csrfToken = csrfTokenFor(this.keys, { sessionId: session.id });
      } else if (!req.headers.authorization) {
        // A browser: an expired session cookie goes, and the sign-in form needs a CSRF binding.
        if (value) res.clearCookie(SESSION_COOKIE, cookieOptions(this.config));
        let anonymous = cookies[CSRF_COOKIE];
        if (!anonymous || !/^[A-Za-z0-9_-]{32}$/.test(anonymous)) {
          anonymous = newCsrfCookie();
          req.cookies = { ...cookies, [CSRF_COOKIE]: anonymous };
          res.cookie(CSRF_COOKIE, anonymous, cookieOptions(this.config));
        }
        res.locals.csrfToken = csrfTokenFor(this.keys, { cookie: anonymous });
      }
      next();
    } catch (error) {
      next(error);
    }
  }
}
