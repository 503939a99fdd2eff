import {
  Module,
  ValidationPipe,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { ConfigModule } from './config/config.module.js';
import type { Config } from './config/config.js';
import { HooksModule } from './hooks/hooks.module.js';
import { StorageModule } from './storage/storage.module.js';
import { ContextMiddleware } from './context/context.middleware.js';
import { AccessLogMiddleware } from './ops/access-log.middleware.js';
import { Metrics } from './ops/metrics.js';
import { OpsController } from './ops/ops.controller.js';
import { LOGGER } from './ops/ops.tokens.js';
import { HttpExceptionFilter } from './web/http-exception.filter.js';
import { PageContextInterceptor, WebModule } from './web/web.module.js';

export interface AppOptions {
  config: Config;
  /** Initialised and migrated by the caller (boot or test helper); Nest destroys it on close. */
  dataSource: DataSource;
  logger: Logger;
}

/**
 * The root module. The global pipeline is registered here as providers so every test boots
 * the production pipeline (DESIGN.md §1).
 */
@Module({})
export class AppModule implements NestModule {
  static forRoot(options: AppOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(options.config),
        TypeOrmModule.forRootAsync({
          useFactory: () => options.dataSource.options,
          dataSourceFactory: async () => options.dataSource,
        }),
        WebModule,
        HooksModule,
        StorageModule,
      ],
      controllers: [OpsController],
      providers: [
        { provide: LOGGER, useValue: options.logger },
        Metrics,
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({
            whitelist: true,
            forbidNonWhitelisted: true,
            transform: true,
          }),
        },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        { provide: APP_INTERCEPTOR, useClass: PageContextInterceptor },
      ],
      exports: [LOGGER, Metrics],
      global: true,
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // Context first: the access log and everything after it read the request context.
    consumer.apply(ContextMiddleware, AccessLogMiddleware).forRoutes('*');
  }
}
