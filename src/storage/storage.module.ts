import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { FsStorage } from './fs-storage.js';
import { S3Storage } from './s3-storage.js';
import type { StorageDriver } from './storage-driver.js';

/** Injection token of the configured {@link StorageDriver}. */
export const STORAGE = Symbol('STORAGE');

export function createStorage(config: Config): StorageDriver {
  if (config.storage === 's3') {
    return new S3Storage({
      bucket: config.s3.bucket!,
      endpoint: config.s3.endpoint,
      region: config.s3.region,
      forcePathStyle: config.s3.forcePathStyle,
      prefix: config.s3.prefix,
    });
  }
  return new FsStorage(join(config.dataDir, 'files'));
}

class StorageCloser implements OnApplicationShutdown {
  constructor(@Inject(STORAGE) private readonly storage: StorageDriver) {}
  async onApplicationShutdown(): Promise<void> {
    await this.storage.close?.();
  }
}

@Global()
@Module({
  providers: [
    { provide: STORAGE, inject: [CONFIG], useFactory: (config: Config) => createStorage(config) },
    StorageCloser,
  ],
  exports: [STORAGE],
})
export class StorageModule {}
