import type { LoggerService } from '@nestjs/common';
import { destination as fileDestination, pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config/config.js';
import { maybeRequestContext } from '../context/request-context.js';

/**
 * JSON logs (pino). Every line written inside a request carries its request id, taken from
 * the request context, so services need not pass it along.
 *
 * Why not nestjs-pino: its releases for NestJS 12 require Node >= 22.12, and we run on Node 20.
 */
export function createLogger(
  level: Config['logLevel'],
  destination: DestinationStream | number = 1,
): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin() {
        const context = maybeRequestContext();
        return context ? { reqId: context.requestId } : {};
      },
      // Belt and braces: these never belong in a log line.
      redact: {
        paths: ['password', '*.password', 'token', '*.token', 'secret', '*.secret'],
        censor: '[redacted]',
      },
    },
    typeof destination === 'number'
      ? fileDestination({ fd: destination, sync: true })
      : destination,
  );
}

/** Nest's logger interface over pino, so framework messages are JSON lines too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
