import { Module } from '@nestjs/common';
import { FilesController } from './files.controller.js';
import { JsonApiController } from './json-api.controller.js';
import { SimpleFastPath } from './simple-fast-path.js';
import { SimpleController } from './simple.controller.js';
import { SimplePages } from './simple.pages.js';

/** What installers read: the simple API, PyPI's JSON API and the files. */
@Module({
  controllers: [SimpleController, JsonApiController, FilesController],
  // SimpleFastPath puts itself ahead of Express at the HTTP server when the app boots.
  providers: [SimplePages, SimpleFastPath],
})
export class IndexApiModule {}
