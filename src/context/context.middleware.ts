import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { clientIp, normalise, trusted } from './client-ip.js';
import { runInContext, type RequestContext } from './request-context.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Contexts already opened, so a request passed on by an early handler keeps its id. */
const opened = new WeakMap<Request, RequestContext>();

/**
 * The context of the request, opened on first call, with its id sent back as X-Request-Id. A
 * request id from a trusted proxy ties our logs to its own; from anyone else it is ignored.
 */
export function openRequestContext(config: Config, req: Request, res: Response): RequestContext {
  const existing = opened.get(req);
  if (existing) return existing;
  const proxies = config.trustedProxyList;
  const peer = req.socket.remoteAddress;
  const ip = clientIp(peer, req.headers['x-forwarded-for'], proxies);
  const incoming = req.headers['x-request-id'];
  const requestId =
    typeof incoming === 'string' &&
    REQUEST_ID.test(incoming) &&
    peer !== undefined &&
    trusted(proxies, normalise(peer))
      ? incoming
      : randomUUID();
  res.setHeader('X-Request-Id', requestId);
  const context: RequestContext = {
    requestId,
    ip,
    userAgent: req.headers['user-agent']?.slice(0, 512) ?? null,
    // `path` is Express's; the simple API's fast path opens the context before Express runs.
    route: `${req.method} ${req.path ?? req.url?.split('?')[0]}`,
    actor: { kind: 'anonymous' },
  };
  opened.set(req, context);
  return context;
}

/** Opens the request context (DESIGN.md §3) around everything that handles the request. */
@Injectable()
export class ContextMiddleware implements NestMiddleware {
  constructor(@Inject(CONFIG) private readonly config: Config) {}

  use(req: Request, res: Response, next: NextFunction): void {
    runInContext(openRequestContext(this.config, req, res), () => next());
  }
}
