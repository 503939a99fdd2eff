import { Module } from '@nestjs/common';
import { FilesController } from './files.controller.js';
import { JsonApiController } from './json-api.controller.js';
import { SimpleFastPathMiddleware } from './simple-fast-path.middleware.js';
import { SimpleController } from './simple.controller.js';
import { SimplePages } from './simple.pages.js';

/** What installers read: the simple API, PyPI's JSON API and the files. */
@Module({
  controllers: [SimpleController, JsonApiController, FilesController],
  providers: [SimplePages, SimpleFastPathMiddleware],
  // The fast path is installed app-wide, ahead of the generic pipeline, by AppModule.
  exports: [SimplePages, SimpleFastPathMiddleware],
})
export class IndexApiModule {}
