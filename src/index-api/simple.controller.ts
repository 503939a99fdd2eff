import { Controller, Get, Inject, NotFoundException, Param, Req, Res } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { CurrentAuth, ReadAccess } from '../accounts/auth/auth.decorators.js';
import type { RequestAuth } from '../accounts/auth/auth.types.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { normalizeName } from '../packages/names.js';
import { Project } from '../projects/project.entity.js';
import { chooseSimpleContentType, SIMPLE_JSON } from './negotiation.js';
import { cacheScope, mayRead, readableProjects } from './read-scope.js';
import { allProjects, projectFiles, projectVersions } from './simple.queries.js';
import {
  renderIndexHtml,
  renderIndexJson,
  renderProjectHtml,
  renderProjectJson,
} from './simple.render.js';

/** Sends a page with an exact Content-Type, `Vary: Accept` and an ETag honouring If-None-Match. */
export function sendPage(
  req: Request,
  res: Response,
  type: string,
  body: string,
  cache: string,
): void {
  const bytes = Buffer.from(body, 'utf8');
  const etag = `"${createHash('sha256').update(type).update(bytes).digest('hex').slice(0, 40)}"`;
  res.setHeader('Vary', 'Accept, Authorization');
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', cache);
  const inm = req.headers['if-none-match'];
  if (
    inm &&
    (inm.trim() === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag))
  ) {
    res.status(304).end();
    return;
  }
  // Exactly the negotiated type, no parameters: uv compares the type strictly.
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', String(bytes.length));
  res.status(200).end(req.method === 'HEAD' ? undefined : bytes);
}

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
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  private get cache(): string {
    // pip asks again with `Cache-Control: max-age=0`; a short lifetime keeps new uploads visible.
    return `${cacheScope(this.config)}, max-age=60`;
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
    const type = chooseSimpleContentType(req.headers.accept);
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
    const project = await this.dataSource.manager.findOneBy(Project, {
      normalizedName: normalized,
    });
    // 404 also for a project the reader may not see: pip and uv then move to the next index.
    if (!project || !mayRead(this.config, auth, normalized)) {
      throw new NotFoundException(`No project named "${name}".`);
    }
    const type = chooseSimpleContentType(req.headers.accept);
    const rows = await projectFiles(this.dataSource.manager, project.id);
    const body =
      type === SIMPLE_JSON
        ? renderProjectJson(
            normalized,
            await projectVersions(this.dataSource.manager, project.id),
            rows,
          )
        : renderProjectHtml(project.name, rows);
    sendPage(req, res, type, body, this.cache);
  }
}
