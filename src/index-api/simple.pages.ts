import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import type { Config } from '../config/config.js';
import { cacheScope } from './read-scope.js';
import { chooseSimpleContentType, SIMPLE_JSON, type SimpleContentType } from './negotiation.js';
import { FreshReads } from './fresh-reads.js';
import { PageCache, pageOf, projectStamp, type Page, type ProjectStamp } from './simple.cache.js';
import { projectFiles, projectVersions } from './simple.queries.js';
import { renderProjectHtml, renderProjectJson } from './simple.render.js';

/** Cache-Control of simple pages and JSON API answers. */
export function simpleCacheControl(config: Config): string {
  // pip asks again with `Cache-Control: max-age=0`; a short lifetime keeps new uploads visible.
  return `${cacheScope(config)}, max-age=60`;
}

/** Sends a page with an exact Content-Type, `Vary` and its ETag, honouring If-None-Match. */
export function sendBytes(
  req: Request,
  res: Response,
  type: string,
  page: Page,
  cache: string,
): void {
  res.setHeader('Vary', 'Accept, Authorization');
  res.setHeader('ETag', page.etag);
  res.setHeader('Cache-Control', cache);
  const inm = req.headers['if-none-match'];
  if (
    inm &&
    (inm.trim() === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === page.etag))
  ) {
    res.statusCode = 304;
    res.end();
    return;
  }
  // Exactly the negotiated type, no parameters: uv compares the type strictly.
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', String(page.bytes.length));
  res.statusCode = 200;
  res.end(req.method === 'HEAD' ? undefined : page.bytes);
}

/** {@link sendBytes} for a body rendered for this request alone. */
export function sendPage(
  req: Request,
  res: Response,
  type: string,
  body: string,
  cache: string,
): void {
  sendBytes(req, res, type, pageOf(type, body), cache);
}

/** Accept headers seen lately → the type they negotiate; clients send the same few. */
const negotiated = new Map<string, SimpleContentType>();

/** {@link chooseSimpleContentType}, remembered per distinct header (bounded). */
export function simpleContentType(accept: string | undefined): SimpleContentType {
  const key = accept ?? '';
  let type = negotiated.get(key);
  if (type === undefined) {
    type = chooseSimpleContentType(accept);
    if (negotiated.size >= 256) negotiated.clear();
    negotiated.set(key, type);
  }
  return type;
}

/**
 * The `/simple/<name>/` pages of this node. A page is never older than the last upload or
 * yank committed, by any node, before the request arrived: the project's stamp is read after
 * the request arrives (concurrent requests share such a read, {@link FreshReads}), and a page
 * rendered for the same stamp is reused, bytes and ETag included.
 */
@Injectable()
export class SimplePages {
  private readonly cache = new PageCache();
  private readonly stamps = new FreshReads((name: string) =>
    projectStamp(this.dataSource.manager, name),
  );
  /** Renderings in progress, so a burst of requests after a change renders the page once. */
  private readonly rendering = new Map<string, Promise<Page>>();

  constructor(private readonly dataSource: DataSource) {}

  /** The project by its normalised name with its current stamp; `null` when there is none. */
  find(normalizedName: string): Promise<ProjectStamp | null> {
    return this.stamps.get(normalizedName);
  }

  async page(
    project: ProjectStamp,
    normalizedName: string,
    type: SimpleContentType,
  ): Promise<Page> {
    const key = `${project.id}:${type}`;
    const cached = this.cache.get(key, project.stamp);
    if (cached) return cached;
    const job = `${key}:${project.stamp}`;
    let pending = this.rendering.get(job);
    if (!pending) {
      pending = this.render(project, normalizedName, type).finally(() =>
        this.rendering.delete(job),
      );
      this.rendering.set(job, pending);
    }
    const page = await pending;
    this.cache.set(key, project.stamp, page);
    return page;
  }

  private async render(
    project: ProjectStamp,
    normalizedName: string,
    type: SimpleContentType,
  ): Promise<Page> {
    const manager = this.dataSource.manager;
    const rows = await projectFiles(manager, project.id);
    const body =
      type === SIMPLE_JSON
        ? renderProjectJson(normalizedName, await projectVersions(manager, project.id), rows)
        : renderProjectHtml(project.name, rows);
    return pageOf(type, body);
  }
}
