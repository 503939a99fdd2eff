import { Controller, Get, Inject, NotFoundException, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { CurrentAuth, ReadAccess } from '../accounts/auth/auth.decorators.js';
import type { RequestAuth } from '../accounts/auth/auth.types.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { normalizeName } from '../packages/names.js';
import { SIMPLE_JSON } from './negotiation.js';
import { mayRead, readableProjects } from './read-scope.js';
import {
  sendBytes,
  sendPage,
  SimplePages,
  simpleCacheControl,
  simpleContentType,
} from './simple.pages.js';
import { allProjects } from './simple.queries.js';
import { renderIndexHtml, renderIndexJson } from './simple.render.js';

/** Whether the request path ends with `/` (Express matches routes with or without it). */
function hasTrailingSlash(req: Request): boolean {
  return req.path.endsWith('/');
}

/**
 * The simple repository API (PEP 503 HTML, PEP 691 JSON, PEP 700 additions) at `/simple/`.
 */
@Controller('simple')
export class SimpleController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly pages: SimplePages,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  private get cache(): string {
    return simpleCacheControl(this.config);
  }

  @Get()
  @ReadAccess()
  async index(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentAuth() auth: RequestAuth,
  ): Promise<void> {
    // PEP 503: HTML pages end with `/`; the URL without it is redirected (relative: any prefix works).
    if (!hasTrailingSlash(req)) return res.redirect(301, 'simple/');
    const scope = readableProjects(this.config, auth);
    let projects = await allProjects(this.dataSource.manager);
    if (scope !== null) projects = projects.filter((p) => scope.includes(p.normalized_name));
    const type = simpleContentType(req.headers.accept);
    const body = type === SIMPLE_JSON ? renderIndexJson(projects) : renderIndexHtml(projects);
    sendPage(req, res, type, body, this.cache);
  }

  @Get(':name')
  @ReadAccess()
  async project(
    @Param('name') name: string,
    @Req() req: Request,
    @Res() res: Response,
    @CurrentAuth() auth: RequestAuth,
  ): Promise<void> {
    const normalized = normalizeName(name);
    const slash = hasTrailingSlash(req);
    // Non-normalised names and missing slashes: 301 to the canonical URL (Warehouse does so).
    if (normalized !== name || !slash) {
      const target = `${encodeURIComponent(normalized)}/`;
      return res.redirect(301, slash ? `../${target}` : target);
    }
    const project = await this.pages.find(normalized);
    // 404 also for a project the reader may not see: pip and uv then move to the next index.
    if (!project || !mayRead(this.config, auth, normalized)) {
      throw new NotFoundException(`No project named "${name}".`);
    }
    const type = simpleContentType(req.headers.accept);
    sendBytes(req, res, type, await this.pages.page(project, normalized, type), this.cache);
  }
}
