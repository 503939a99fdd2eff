import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { basicPassword } from '../accounts/auth/auth.guard.js';
import type { RequestAuth } from '../accounts/auth/auth.types.js';
import { SESSION_COOKIE } from '../accounts/sessions/session.service.js';
import { TokenService } from '../accounts/tokens/token.service.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { openRequestContext } from '../context/context.middleware.js';
import { runInContext } from '../context/request-context.js';
import { logWhenFinished } from '../ops/access-log.middleware.js';
import { Metrics } from '../ops/metrics.js';
import { LOGGER } from '../ops/ops.tokens.js';
import { normalizeName } from '../packages/names.js';
import { securityHeaders } from '../web/setup-app.js';
import { mayRead } from './read-scope.js';
import { sendBytes, SimplePages, simpleCacheControl, simpleContentType } from './simple.pages.js';

/** `/simple/<name>/` with a name that may be normalised (PEP 503: letters, digits, `-`). */
const PROJECT_PAGE = /^\/simple\/([a-z0-9-]+)\/$/;
/** The route pattern the metrics and the context name, as Nest's router reports it. */
const ROUTE = '/simple/:name';
const SESSION_PREFIX = `${SESSION_COOKIE}=`;

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Answers GET/HEAD `/simple/<name>/` at the HTTP server, ahead of Express and Nest: Express
 * alone costs this page ~5× what Node's http does, and the generic pipeline (cookies,
 * sessions, router, guard, interceptors) several times more (docs/performance.md).
 *
 * It serves only what it can decide alone — a page (200) or its revalidation (304) for a
 * reader the same rules admit: anyone on a public index, an API token (HTTP Basic) allowed to
 * read the project otherwise. Everything else — redirects, unknown projects, refusals, a
 * browser with a session cookie, any error — is handed unchanged to Express, which answers it
 * as it always has. What it serves carries the same security headers (the same helmet
 * middleware), request id, access-log line and metrics sample as any other answer.
 */
@Injectable()
export class SimpleFastPath implements OnApplicationBootstrap {
  private readonly helmet;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly pages: SimplePages,
    private readonly tokens: TokenService,
    private readonly metrics: Metrics,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.helmet = securityHeaders(config);
  }

  /** Puts itself in front of the app's request listener (Express). */
  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return;
    const rest = server.listeners('request') as Listener[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const pass = () => {
        for (const listener of rest) listener(req, res);
      };
      this.handle(req as Request, res as Response, pass);
    });
  }

  handle(req: Request, res: Response, pass: () => void): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return pass();
    const url = req.url ?? '';
    if (!url.startsWith('/simple/')) return pass();
    const query = url.indexOf('?');
    const match = PROJECT_PAGE.exec(query < 0 ? url : url.slice(0, query));
    // Not normalised (`a_b`, `a--b`): the controller redirects it.
    if (!match || normalizeName(match[1]) !== match[1]) return pass();
    // A browser's session is resumed by the generic pipeline (who is signed in, expired cookies).
    if (req.headers.cookie?.includes(SESSION_PREFIX)) return pass();
    const context = openRequestContext(this.config, req, res);
    context.route = `${req.method} ${ROUTE}`;
    runInContext(context, () => {
      this.serve(req, res, match[1]).then(
        (served) => {
          if (!served) pass();
        },
        // Whatever failed here fails again there, and is answered there as any error is.
        () => pass(),
      );
    });
  }

  /** Sends the page and returns true, or returns false having sent nothing. */
  private async serve(req: Request, res: Response, name: string): Promise<boolean> {
    const auth = await this.authenticate(req);
    if (auth === null) return false;
    if (auth.kind === 'anonymous' && this.config.readAccess !== 'public') return false;
    if (!mayRead(this.config, auth, name)) return false;
    const project = await this.pages.find(name);
    if (!project) return false;
    const type = simpleContentType(req.headers.accept);
    const page = await this.pages.page(project, name, type);
    req.auth = auth;
    const context = openRequestContext(this.config, req, res);
    logWhenFinished(this.metrics, this.logger, req, res, context, ROUTE);
    this.helmet(req, res, () => sendBytes(req, res, type, page, simpleCacheControl(this.config)));
    return true;
  }

  /**
   * As the guard does on a read route: an API token by HTTP Basic, or nobody. `null` when a
   * presented token is refused: the generic pipeline answers that (403).
   */
  private async authenticate(req: Request): Promise<RequestAuth | null> {
    const presented = basicPassword(req.headers.authorization);
    if (presented === null) return { kind: 'anonymous' };
    try {
      return await this.tokens.authenticateRequest(presented);
    } catch {
      return null;
    }
  }
}
