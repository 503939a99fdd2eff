import { Controller, Get, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CsrfExempt, CurrentAuth, Public, SignedIn } from '../accounts/auth/auth.decorators.js';
import type { RequestAuth } from '../accounts/auth/auth.types.js';
import { UploadError } from './upload-form.js';
import { UploadExceptionFilter } from './upload.filter.js';
import { UploadService } from './upload.service.js';

/**
 * The legacy upload API twine, uv and poetry post to. Both `/legacy/` and `/legacy` answer
 * without a redirect: twine and uv refuse to follow one when uploading.
 */
@Controller()
@UseFilters(UploadExceptionFilter)
export class UploadController {
  constructor(private readonly uploads: UploadService) {}

  @Post(['legacy', 'legacy/'])
  // An API token (HTTP Basic, any username) or a browser session; the session cookie is
  // SameSite=Lax, so another site cannot post here with it.
  @SignedIn({ tokens: true })
  @CsrfExempt()
  async upload(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentAuth() auth: RequestAuth,
  ): Promise<void> {
    if (auth.kind === 'anonymous')
      throw new UploadError('Invalid or non-existent authentication information.', 403);
    await this.uploads.upload(req, {
      user: auth.user,
      token: auth.kind === 'token' ? auth.token : null,
    });
    // 200 and an empty body, for a new file and for an identical re-upload alike (Warehouse).
    res.status(200).end();
  }

  @Get(['legacy', 'legacy/'])
  @Public()
  describe(): never {
    throw new UploadError(
      "This is the upload API: POST multipart/form-data with ':action=file_upload' (twine upload --repository-url <this URL>).",
      405,
    );
  }
}
