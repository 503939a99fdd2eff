import { Controller, Get, Inject, NotFoundException, Param, Render, Res } from '@nestjs/common';
import type { Response } from 'express';
import { CurrentAuth, ReadAccess } from '../accounts/auth/auth.decorators.js';
import type { RequestAuth } from '../accounts/auth/auth.types.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { mayRead } from '../index-api/read-scope.js';
import { fileUrl } from '../index-api/simple.render.js';
import { normalizeName } from '../packages/names.js';
import { ReleaseService } from '../packages/release.service.js';
import { renderDescription } from './description.js';
import { ProjectService } from './project.service.js';

/** The public project page: summary, versions, files with hashes, install command, description. */
@Controller('project')
export class ProjectPageController {
  constructor(
    private readonly projects: ProjectService,
    private readonly releases: ReleaseService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @Get(':name')
  @ReadAccess()
  @Render('projects/public')
  async latest(
    @Param('name') name: string,
    @CurrentAuth() auth: RequestAuth,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.page(name, null, auth, res);
  }

  @Get(':name/:version')
  @ReadAccess()
  @Render('projects/public')
  async version(
    @Param('name') name: string,
    @Param('version') version: string,
    @CurrentAuth() auth: RequestAuth,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.page(name, version, auth, res);
  }

  private async page(name: string, version: string | null, auth: RequestAuth, res: Response) {
    const project = await this.projects.findByName(name);
    if (!project || !mayRead(this.config, auth, normalizeName(name))) {
      throw new NotFoundException(`No project named "${name}".`);
    }
    const releases = await this.releases.list(project.id);
    const release = version
      ? await this.releases.find(project.id, version)
      : (releases.find((r) => !r.yanked && !r.isPrerelease) ??
        releases.find((r) => !r.yanked) ??
        releases[0]);
    if (!release)
      throw new NotFoundException(
        version
          ? `${project.name} has no version ${version}.`
          : `${project.name} has no releases yet.`,
      );
    res.setHeader('Cache-Control', 'no-cache');
    const files = (release.files ?? []).sort((a, b) => a.filename.localeCompare(b.filename));
    return {
      title: `${project.name} ${release.version}`,
      project,
      release,
      summary: release.summary,
      description: renderDescription(release.description, release.descriptionContentType),
      install: `pip install --index-url ${this.config.baseUrl}/simple/ ${project.normalizedName}==${release.version}`,
      files: files.map((f) => ({
        filename: f.filename,
        url: `/${fileUrl(f.storageKey).replace(/^(\.\.\/)+/, '')}`,
        sha256: f.sha256,
        size: f.size,
        packagetype: f.packagetype,
        uploadTime: f.uploadTime,
      })),
      versions: releases.map((r) => ({
        version: r.version,
        yanked: r.yanked,
        current: r.id === release.id,
        url: `/project/${encodeURIComponent(project.normalizedName)}/${encodeURIComponent(r.version)}/`,
      })),
    };
  }
}
