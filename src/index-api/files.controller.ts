import { Controller, Get, Inject, NotFoundException, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { DataSource } from 'typeorm';
import { CurrentAuth, ReadAccess } from '../accounts/auth/auth.decorators.js';
import type { RequestAuth } from '../accounts/auth/auth.types.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { HookBus } from '../hooks/hook-bus.js';
import { ReleaseFile } from '../packages/release-file.entity.js';
import { fileRef } from '../packages/release.service.js';
import { Project } from '../projects/project.entity.js';
import { projectRef } from '../projects/project.service.js';
import { STORAGE } from '../storage/storage.module.js';
import type { ByteRange, StorageDriver } from '../storage/storage-driver.js';
import { cacheScope, mayRead } from './read-scope.js';

/**
 * One `Range: bytes=…` range within `size`: `undefined` without a usable header (send it all),
 * `null` when unsatisfiable (416). Several ranges are answered with the whole file (allowed).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return null;
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) return null;
  return { start, end };
}

/**
 * Distribution files and their PEP 658 `.metadata`, at `/files/<ab>/<cd>/<sha256>/<filename>`
 * (the storage key). Immutable, so cached long; ranges for uv's lazy reads and pip's resumes;
 * never a Content-Encoding, which would break the hash check.
 */
@Controller('files')
export class FilesController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hooks: HookBus,
    @Inject(STORAGE) private readonly storage: StorageDriver,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @Get(':a/:b/:hash/:filename')
  @ReadAccess()
  async serve(
    @Param() params: { a: string; b: string; hash: string; filename: string },
    @Req() req: Request,
    @Res() res: Response,
    @CurrentAuth() auth: RequestAuth,
  ): Promise<void> {
    const key = `${params.a}/${params.b}/${params.hash}/${params.filename}`;
    let file = await this.dataSource.manager.findOneBy(ReleaseFile, { filename: params.filename });
    let metadata = false;
    if (!file && params.filename.endsWith('.metadata')) {
      file = await this.dataSource.manager.findOneBy(ReleaseFile, {
        filename: params.filename.slice(0, -'.metadata'.length),
      });
      metadata = true;
    }
    const project = file
      ? await this.dataSource.manager.findOneBy(Project, { id: file.projectId })
      : null;
    const wanted = metadata ? `${key.slice(0, -'.metadata'.length)}` : key;
    if (
      !file ||
      !project ||
      file.storageKey !== wanted ||
      (metadata && !file.metadataKey) ||
      !mayRead(this.config, auth, project.normalizedName)
    ) {
      throw new NotFoundException('No such file.');
    }
    const blobKey = metadata ? file.metadataKey! : file.storageKey;
    const info = await this.storage.stat(blobKey);
    if (!info) throw new NotFoundException('The file is missing from storage.');

    const etag = `"${metadata ? file.metadataSha256 : file.sha256}"`;
    res.setHeader('ETag', etag);
    res.setHeader('Last-Modified', file.uploadTime.toUTCString());
    res.setHeader('Cache-Control', `${cacheScope(this.config)}, max-age=31536000, immutable`);
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader(
      'Content-Type',
      metadata ? 'text/plain; charset=utf-8' : 'application/octet-stream',
    );
    const inm = req.headers['if-none-match'];
    if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
      res.status(304).end();
      return;
    }
    const ifRange = req.headers['if-range'];
    const range =
      ifRange && ifRange !== etag ? undefined : parseRange(req.headers.range, info.size);
    if (range === null) {
      res.setHeader('Content-Range', `bytes */${info.size}`);
      res.status(416).end();
      return;
    }
    if (range) {
      res.status(206);
      res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${info.size}`);
      res.setHeader('Content-Length', String(range.end - range.start + 1));
    } else {
      res.status(200);
      res.setHeader('Content-Length', String(info.size));
    }
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (!metadata && this.hooks.has('file.downloaded')) {
      this.hooks.emit('file.downloaded', { project: projectRef(project), file: fileRef(file) });
    }
    const stream = await this.storage.read(blobKey, range ?? undefined);
    if (!stream) throw new NotFoundException('The file is missing from storage.');
    await pipeline(stream, res).catch(() => undefined);
  }
}
