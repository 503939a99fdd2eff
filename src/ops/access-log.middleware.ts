import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { maybeRequestContext, type RequestContext } from '../context/request-context.js';
import { LOGGER } from './ops.tokens.js';
import { Metrics } from './metrics.js';

/** Query parameters that carry a capability (e-mail verification, password reset links). */
const SECRET_PARAMS = /([?&](?:token|ticket)=)[^&#]*/gi;

/** The URL as logged: a reset link in the access log would let any log reader take the account. */
export function redactQuery(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[redacted]');
}

/**
 * Writes the request's log line and metrics sample when its response is finished. `route` is
 * the matched route pattern when the caller knows it; otherwise Express's, read at the end.
 */
export function logWhenFinished(
  metrics: Metrics,
  logger: Logger,
  req: Request,
  res: Response,
  context: RequestContext | undefined,
  route?: string,
): void {
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const pattern: string = route ?? req.route?.path ?? 'unmatched';
    metrics.observe(req.method, pattern, res.statusCode, seconds);
    // Built only when it is written: at level warn the line costs nothing.
    if (!logger.isLevelEnabled('info')) return;
    logger.info(
      {
        reqId: context?.requestId,
        method: req.method,
        url: redactQuery(req.originalUrl ?? req.url),
        route: pattern,
        status: res.statusCode,
        ms: Math.round(seconds * 1000),
        ip: context?.ip,
        actor: context?.actor.kind,
      },
      'request',
    );
  });
}

/**
 * One log line and one metrics sample per request, when the response is finished. The route
 * label is the matched route pattern (`/simple/:name/`), never the raw path, so the number
 * of series stays bounded; requests that matched no route count as `unmatched`.
 */
@Injectable()
export class AccessLogMiddleware implements NestMiddleware {
  constructor(
    private readonly metrics: Metrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  use(req: Request, res: Response, next: NextFunction): void {
    logWhenFinished(this.metrics, this.logger, req, res, maybeRequestContext());
    next();
  }
}
