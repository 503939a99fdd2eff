import { Module } from '@nestjs/common';
import { FilesController } from './files.controller.js';
import { JsonApiController } from './json-api.controller.js';
import { SimpleController } from './simple.controller.js';

/** What installers read: the simple API, PyPI's JSON API and the files. */
@Module({
  controllers: [SimpleController, JsonApiController, FilesController],
})
export class IndexApiModule {}
