import {
  Module,
  ValidationPipe,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import cookieParser from 'cookie-parser';
import type { DataSource } from 'typeorm';
import { AccountsModule } from './accounts/accounts.module.js';
import { AuthGuard } from './accounts/auth/auth.guard.js';
import { SessionMiddleware } from './accounts/sessions/session.middleware.js';
import { AdminModule } from './admin/admin.module.js';
import { ConfigModule } from './config/config.module.js';
import type { Config } from './config/config.js';
import { HooksModule } from './hooks/hooks.module.js';
import { IndexApiModule } from './index-api/index-api.module.js';
import { PackagesModule } from './packages/packages.module.js';
import { ProjectsModule } from './projects/projects.module.js';
import { StorageModule } from './storage/storage.module.js';
import { UploadModule } from './upload/upload.module.js';
import { ContextMiddleware } from './context/context.middleware.js';
import { AccessLogMiddleware } from './ops/access-log.middleware.js';
import { Metrics } from './ops/metrics.js';
import { OpsController } from './ops/ops.controller.js';
import { LOGGER } from './ops/ops.tokens.js';
import { HttpExceptionFilter } from './web/http-exception.filter.js';
import { PageContextInterceptor, WebModule } from './web/web.module.js';
import { PluginHostModule } from './plugin-host/plugin-host.module.js';
import { noPlugins, type PluginSet } from './plugin-host/plugin-loader.js';

export interface AppOptions {
  config: Config;
  /** Initialised and migrated by the caller (boot or test helper); Nest destroys it on close. */
  dataSource: DataSource;
  logger: Logger;
  /** Loaded by the plugin host before the app exists; their entities are in `dataSource`. */
  plugins?: PluginSet;
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
        AccountsModule,
        AdminModule,
        ProjectsModule,
        PackagesModule,
        UploadModule,
        IndexApiModule,
        PluginHostModule.forRoot(options.plugins ?? noPlugins),
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
        // Every route declares who may call it (src/accounts/auth/auth.decorators.ts).
        { provide: APP_GUARD, useExisting: AuthGuard },
        { provide: APP_INTERCEPTOR, useClass: PageContextInterceptor },
      ],
      exports: [LOGGER, Metrics],
      global: true,
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // Context first: the access log and everything after it read the request context.
    // The session is resumed before routing so that every page, error pages too, knows
    // who is signed in. (The simple API's pages are mostly answered before any of this, at
    // the HTTP server: src/index-api/simple-fast-path.ts.)
    consumer
      .apply(ContextMiddleware, AccessLogMiddleware, cookieParser(), SessionMiddleware)
      .forRoutes('*');
  }
}
