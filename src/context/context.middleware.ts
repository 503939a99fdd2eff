import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { clientIp, normalise, trusted } from './client-ip.js';
import { runInContext, type RequestContext } from './request-context.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Opens the request context (DESIGN.md §3) around everything that handles the request. */
@Injectable()
export class ContextMiddleware implements NestMiddleware {
  constructor(@Inject(CONFIG) private readonly config: Config) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const proxies = this.config.trustedProxyList;
    const peer = req.socket.remoteAddress;
    const ip = clientIp(peer, req.headers['x-forwarded-for'], proxies);
    const peerTrusted = peer !== undefined && trusted(proxies, normalise(peer));
    // A request id from a trusted proxy ties our logs to its own; from anyone else it is ignored.
    const incoming = req.headers['x-request-id'];
    const requestId =
      peerTrusted && typeof incoming === 'string' && REQUEST_ID.test(incoming)
        ? incoming
        : randomUUID();
    const context: RequestContext = {
      requestId,
      ip,
      userAgent: req.headers['user-agent']?.slice(0, 512) ?? null,
      route: `${req.method} ${req.path}`,
      actor: { kind: 'anonymous' },
    };
    res.setHeader('X-Request-Id', requestId);
    runInContext(context, () => next());
  }
}
