import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { maybeRequestContext } from '../context/request-context.js';
import { LOGGER } from './ops.tokens.js';
import { Metrics } from './metrics.js';

/** Query parameters that carry a capability (e-mail verification, password reset links). */
const SECRET_PARAMS = /([?&](?:token|ticket)=)[^&#]*/gi;

/** The URL as logged: a reset link in the access log would let any log reader take the account. */
export function redactQuery(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[redacted]');
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
    const started = process.hrtime.bigint();
    const context = maybeRequestContext();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route: string = req.route?.path ?? 'unmatched';
      this.metrics.observe(req.method, route, res.statusCode, seconds);
      this.logger.info(
        {
          reqId: context?.requestId,
          method: req.method,
          url: redactQuery(req.originalUrl),
          route,
          status: res.statusCode,
          ms: Math.round(seconds * 1000),
          ip: context?.ip,
          actor: context?.actor.kind,
        },
        'request',
      );
    });
    next();
  }
}
