import {
  Controller,
  Get,
  Global,
  Inject,
  Injectable,
  Module,
  Render,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { maybeRequestContext } from '../context/request-context.js';
import { Public } from '../accounts/auth/auth.decorators.js';
import { larderVersion } from '../paths.js';
import { PageRenderer } from './page-renderer.js';
import { TabPageGuard } from './tab-page.js';
import { TabRegistry } from './tabs.js';
import { ViewerService } from './viewer.js';

/**
 * Fills what the layout needs on every page: version, request id, and the route pattern
 * into the request context (known only once Nest has routed the request).
 */
@Injectable()
export class PageContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const req = context.switchToHttp().getRequest<Request>();
      const res = context.switchToHttp().getResponse<Response>();
      const store = maybeRequestContext();
      if (store && req.route?.path) store.route = `${req.method} ${req.route.path}`;
      res.locals.larderVersion = larderVersion;
      res.locals.requestId = store?.requestId;
    }
    return next.handle();
  }
}

@Controller()
export class HomeController {
  constructor(@Inject(CONFIG) private readonly config: Config) {}

  @Get()
  @Public()
  @Render('home')
  home() {
    return { title: 'Home', baseUrl: this.config.baseUrl };
  }
}

@Global()
@Module({
  controllers: [HomeController],
  providers: [TabRegistry, ViewerService, PageRenderer, TabPageGuard],
  exports: [TabRegistry, ViewerService, PageRenderer, TabPageGuard],
})
export class WebModule {}
