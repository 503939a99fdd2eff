import {
  Catch,
  HttpException,
  Inject,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { TokenRefusedError } from '../accounts/tokens/token.service.js';
import { HookBus } from '../hooks/hook-bus.js';
import type { HookMap, UploadRejection } from '../hooks/hook-map.js';
import { HookVetoError } from '../hooks/hook-veto.js';
import { projectRef } from '../projects/project.service.js';
import { LOGGER } from '../ops/ops.tokens.js';
import { InvalidArchiveError } from '../packages/archive.js';
import { InvalidFilenameError } from '../packages/filenames.js';
import { InvalidMetadataError } from '../packages/metadata.js';
import { FileTooLargeError } from '../storage/storage-driver.js';
import { MultipartError } from './multipart.js';
import { UploadError } from './upload-form.js';
import { uploadAttempt } from './upload.service.js';

/** What the upload API answers for a thrown error: status and the message for twine. */
export function uploadErrorResponse(error: unknown): { status: number; message: string } | null {
  if (error instanceof UploadError || error instanceof MultipartError) {
    return { status: error.status, message: error.message };
  }
  if (error instanceof FileTooLargeError) return { status: 413, message: error.message };
  if (
    error instanceof InvalidFilenameError ||
    error instanceof InvalidArchiveError ||
    error instanceof InvalidMetadataError
  ) {
    return { status: 400, message: error.message };
  }
  // A plugin's veto: 400 on upload (not 403) so twine prints it as a refusal of this file.
  if (error instanceof HookVetoError) return { status: 400, message: error.message };
  if (error instanceof HttpException) {
    const body = error.getResponse();
    const message =
      typeof body === 'object' && body !== null && 'message' in body
        ? String((body as { message: unknown }).message)
        : error.message;
    return { status: error.getStatus(), message };
  }
  return null;
}

/** Why an upload was refused, for `file.upload.rejected`; `null` for what is no refusal. */
export function rejectionOf(
  error: unknown,
  status: number,
  reachedService: boolean,
): UploadRejection | null {
  if (error instanceof HookVetoError) return 'vetoed';
  if (error instanceof UploadError && error.rejection) return error.rejection;
  // Refused at sign-in: no credentials, or a token that is unknown, revoked or expired.
  if (error instanceof TokenRefusedError || status === 401 || (!reachedService && status === 403)) {
    return 'invalid_credentials';
  }
  if (status === 403) return 'no_permission';
  if (status >= 400 && status < 500 && status !== 405) return 'invalid_file';
  return null;
}

/** HTTP reason phrases allow tab, space, visible ASCII and obs-text; keep them one short line. */
export function reasonPhrase(message: string): string {
  const clean = message.replace(/[^\t\x20-\x7e]/g, '?');
  return clean.length > 400 ? `${clean.slice(0, 397)}...` : clean;
}

/**
 * The upload API answers in twine's terms (Warehouse `forklift/utils.py`): the message is the
 * reason phrase of the status line — what twine prints — and the body is JSON
 * `{ message, code, title }` for clients that accept JSON (uv reads `code`), plain text otherwise.
 */
@Catch()
export class UploadExceptionFilter implements ExceptionFilter {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly hooks: HookBus,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    let answer = uploadErrorResponse(exception);
    if (!answer) {
      this.logger.error({ err: exception, url: req.originalUrl }, 'upload failed');
      answer = { status: 500, message: 'Something went wrong on our side.' };
    }
    this.rejected(req, exception, answer);
    if (res.headersSent) {
      res.end();
      return;
    }
    const reason = reasonPhrase(answer.message);
    res.status(answer.status);
    res.statusMessage = reason;
    // Whatever the client still sends is read and dropped; the connection is not reused.
    res.setHeader('Connection', 'close');
    if (req.accepts(['application/json', 'text/plain', 'text/html']) === 'application/json') {
      res.json({
        message: answer.message,
        code: `${answer.status} ${reason}`,
        title: reason,
      });
    } else {
      res.type('text/plain').send(`${answer.status} ${answer.message}\n`);
    }
  }

  /** Tells plugins (the audit log) of the refusal; the answer to the client stays as it is. */
  private rejected(req: Request, exception: unknown, answer: { status: number; message: string }) {
    const attempt = uploadAttempt(req);
    const reason = rejectionOf(exception, answer.status, attempt !== undefined);
    if (!reason || req.method !== 'POST') return;
    const payload: HookMap['file.upload.rejected'] = {
      project: attempt?.project ? projectRef(attempt.project) : null,
      projectName: attempt?.project?.name ?? attempt?.projectName ?? null,
      filename: attempt?.filename ?? null,
      reason,
      message: exception instanceof HookVetoError ? exception.reason : answer.message,
      status: answer.status,
      plugin: exception instanceof HookVetoError ? exception.plugin : null,
    };
    try {
      this.hooks.emit('file.upload.rejected', payload);
    } catch (error) {
      this.logger.error({ err: error }, 'could not emit file.upload.rejected');
    }
  }
}
