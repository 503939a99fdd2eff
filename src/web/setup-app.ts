import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import hbs from 'hbs';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { publicDir, viewsDir } from '../paths.js';
import { sendError, toClientError } from './http-exception.filter.js';
import { registerViewHelpers } from './view-helpers.js';

/**
 * The security headers of every answer (helmet), as one middleware. It needs only Node's own
 * request and response, so answers served ahead of Express (the simple API's fast path) use
 * it too.
 */
export function securityHeaders(config: Config): ReturnType<typeof helmet> {
  const https = config.baseUrl.startsWith('https:');
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // Only behind TLS: on plain http it would send the browser to an https port nobody serves.
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: https ? { maxAge: 31_536_000 } : false,
    crossOriginEmbedderPolicy: false,
  });
}

/**
 * Express-level set-up shared by the server and the tests: views, static files, security
 * headers. Call before `app.init()`; call {@link finishApp} after it.
 */
export function setupApp(app: NestExpressApplication, config: Config): NestExpressApplication {
  app.disable('x-powered-by');
  app.use(securityHeaders(config));
  app.useStaticAssets(publicDir, { prefix: '/static/', maxAge: '1h', index: false });
  app.setBaseViewsDir(viewsDir);
  app.setViewEngine('hbs');
  // Compile each page once, not on every render (Express turns this on only when
  // NODE_ENV=production, which nothing here sets): ~3.5 ms of CPU per HTML response.
  // Templates ship with the build, so a change to one needs a restart as code does.
  app.set('view cache', true);
  hbs.registerPartials(join(viewsDir, 'partials'));
  registerViewHelpers(hbs);
  return app;
}

/**
 * Express's last error handler, after every route: errors raised before Nest routes a request
 * (a malformed JSON body, a body over the size limit) get the same answer as any other error,
 * never Express's default page with a stack trace.
 */
export function finishApp(app: NestExpressApplication): NestExpressApplication {
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    sendError(req, res, toClientError(error));
  });
  return app;
}
