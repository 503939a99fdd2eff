import { Global, Module } from '@nestjs/common';
import { BlobJanitor } from './blob-janitor.service.js';
import { ReleaseService } from './release.service.js';

/** Releases and files after upload, and the blob janitor keeping storage and rows in step. */
@Global()
@Module({
  providers: [ReleaseService, BlobJanitor],
  exports: [ReleaseService, BlobJanitor],
})
export class PackagesModule {}
