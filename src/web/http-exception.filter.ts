import {
  Catch,
  HttpException,
  HttpStatus,
  Inject,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { LOGGER } from '../ops/ops.tokens.js';
import { maybeRequestContext } from '../context/request-context.js';
import { HookVetoError } from '../hooks/hook-veto.js';

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Sign-in required',
  403: 'Forbidden',
  404: 'Page not found',
  405: 'Method not allowed',
  413: 'Too large',
  429: 'Too many requests',
  500: 'Something went wrong',
  503: 'Service unavailable',
};

/** A client-facing error: a status and one message, never a stack. */
export interface ClientError {
  status: number;
  code: string;
  message: string;
}

/** Maps anything thrown to what the client may see; unknown errors become a bare 500. */
export function toClientError(exception: unknown): ClientError {
  // A plugin refused the action: say which and why (DESIGN.md §4). The upload API answers 400
  // itself, so twine prints the message.
  if (exception instanceof HookVetoError) {
    return { status: 403, code: 'FORBIDDEN', message: exception.message };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    let message = exception.message;
    if (typeof body === 'object' && body !== null && 'message' in body) {
      const raw = (body as { message: unknown }).message;
      // ValidationPipe reports one message per failed field: keep them all, they name the fields.
      message = Array.isArray(raw) ? raw.join('; ') : String(raw);
    }
    // Nest maps body-parser's JSON SyntaxError to a 400 whose message is the parser's own.
    if ((exception.cause as { type?: unknown } | undefined)?.type === 'entity.parse.failed') {
      message = 'the request body is not valid JSON';
    }
    return { status, code: HttpStatus[status] ?? 'ERROR', message };
  }
  // Body-parser and other Express-level errors carry a client status and a safe message.
  const candidate = exception as {
    status?: unknown;
    expose?: unknown;
    message?: unknown;
    type?: unknown;
  };
  if (
    typeof candidate?.status === 'number' &&
    candidate.status >= 400 &&
    candidate.status < 500 &&
    candidate.expose
  ) {
    const message =
      candidate.type === 'entity.parse.failed'
        ? 'the request body is not valid JSON'
        : String(candidate.message);
    return { status: candidate.status, code: HttpStatus[candidate.status] ?? 'ERROR', message };
  }
  return {
    status: 500,
    code: 'INTERNAL_SERVER_ERROR',
    message: 'Something went wrong on our side.',
  };
}

/** JSON for APIs and clients that ask for JSON; otherwise the HTML error page. */
export function wantsJson(req: Request): boolean {
  if (req.path.startsWith('/api/')) return true;
  return req.accepts(['html', 'json']) === 'json';
}

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const error = toClientError(exception);
    if (error.status >= 500) {
      this.logger.error({ err: exception, url: req.originalUrl }, 'unhandled error');
    }
    const retryAfter = (exception as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
    if (typeof retryAfter === 'number') res.setHeader('Retry-After', String(retryAfter));
    // A browser on a page that needs a session is sent to sign in, and brought back after.
    const signIn = exception as { page?: unknown } | null;
    if (error.status === 401 && signIn?.page === true && !wantsJson(req) && !res.headersSent) {
      const next = req.method === 'GET' ? req.originalUrl : '/manage/account/';
      res.redirect(303, `/account/login/?next=${encodeURIComponent(next)}`);
      return;
    }
    sendError(req, res, error);
  }
}

export function sendError(req: Request, res: Response, error: ClientError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(error.status);
  if (error.status === 401 && !res.getHeader('WWW-Authenticate') && wantsJson(req)) {
    res.setHeader('WWW-Authenticate', 'Basic realm="larder"');
  }
  if (wantsJson(req)) {
    res.json({ code: error.code, message: error.message });
    return;
  }
  res.render('errors/error', {
    title: TITLES[error.status] ?? 'Error',
    status: error.status,
    message: error.message,
    requestId: maybeRequestContext()?.requestId,
  });
}
