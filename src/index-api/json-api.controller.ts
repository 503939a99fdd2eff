import { Controller, Get, Inject, NotFoundException, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { CurrentAuth, ReadAccess } from '../accounts/auth/auth.decorators.js';
import type { RequestAuth } from '../accounts/auth/auth.types.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { normalizeName } from '../packages/names.js';
import type { ReleaseFile } from '../packages/release-file.entity.js';
import { Release } from '../packages/release.entity.js';
import { canonicalizeVersion, compareVersions, tryParseVersion } from '../packages/version.js';
import { Project } from '../projects/project.entity.js';
import { Role } from '../projects/role.entity.js';
import { cacheScope, mayRead } from './read-scope.js';
import { sendPage } from './simple.pages.js';

/**
 * PyPI's JSON API (`warehouse/legacy/api/json.py`), not standardised but read by many tools:
 * `/pypi/<name>/json` and `/pypi/<name>/<version>/json`.
 */
@Controller('pypi')
export class JsonApiController {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @Get(':name/json')
  @ReadAccess()
  async project(
    @Param('name') name: string,
    @Req() req: Request,
    @Res() res: Response,
    @CurrentAuth() auth: RequestAuth,
  ): Promise<void> {
    const found = await this.load(name, req, res, auth, '');
    if (!found) return;
    const { project, releases } = found;
    if (releases.length === 0) throw new NotFoundException(`${project.name} has no releases.`);
    // Warehouse's "latest": not yanked first, then final before pre-release, then highest.
    const latest = [...releases].sort(
      (a, b) =>
        Number(a.yanked) - Number(b.yanked) ||
        Number(a.isPrerelease) - Number(b.isPrerelease) ||
        compareVersions(b.version, a.version),
    )[0];
    const body = await this.body(project, latest, releases);
    this.send(req, res, body);
  }

  @Get(':name/:version/json')
  @ReadAccess()
  async release(
    @Param('name') name: string,
    @Param('version') version: string,
    @Req() req: Request,
    @Res() res: Response,
    @CurrentAuth() auth: RequestAuth,
  ): Promise<void> {
    const found = await this.load(name, req, res, auth, `${encodeURIComponent(version)}/`);
    if (!found) return;
    const parsed = tryParseVersion(version);
    const release = parsed
      ? found.releases.find((r) => r.canonicalVersion === canonicalizeVersion(parsed))
      : undefined;
    if (!release) throw new NotFoundException(`${found.project.name} has no version ${version}.`);
    this.send(req, res, await this.body(found.project, release, null));
  }

  private send(req: Request, res: Response, body: unknown): void {
    sendPage(
      req,
      res,
      'application/json',
      JSON.stringify(body),
      `${cacheScope(this.config)}, max-age=60`,
    );
  }

  private async load(
    name: string,
    req: Request,
    res: Response,
    auth: RequestAuth,
    versionPath: string,
  ): Promise<{ project: Project; releases: Release[] } | null> {
    const normalized = normalizeName(name);
    if (normalized !== name) {
      // Relative to /pypi/<name>/[<version>/]json: up to /pypi/.
      const up = versionPath ? '../../' : '../';
      res.redirect(301, `${up}${encodeURIComponent(normalized)}/${versionPath}json`);
      return null;
    }
    const project = await this.dataSource.manager.findOneBy(Project, {
      normalizedName: normalized,
    });
    if (!project || !mayRead(this.config, auth, normalized)) {
      throw new NotFoundException(`No project named "${name}".`);
    }
    const releases = await this.dataSource.manager.find(Release, {
      where: { projectId: project.id },
      relations: { files: true },
    });
    return { project, releases };
  }

  private fileUrl(file: ReleaseFile): string {
    return `${this.config.baseUrl}/files/${file.storageKey.split('/').map(encodeURIComponent).join('/')}`;
  }

  private fileJson(file: ReleaseFile, release: Release) {
    const iso = file.uploadTime.toISOString();
    return {
      comment_text: file.comment ?? '',
      digests: { blake2b_256: file.blake2b256, md5: file.md5, sha256: file.sha256 },
      downloads: -1,
      filename: file.filename,
      has_sig: false,
      md5_digest: file.md5,
      packagetype: file.packagetype,
      python_version: file.pythonVersion,
      requires_python: file.requiresPython,
      size: file.size,
      upload_time: iso.slice(0, 19),
      upload_time_iso_8601: iso,
      url: this.fileUrl(file),
      yanked: release.yanked,
      yanked_reason: release.yankedReason,
      'core-metadata':
        file.packagetype === 'bdist_wheel' && file.metadataSha256
          ? { sha256: file.metadataSha256 }
          : false,
    };
  }

  private async body(project: Project, release: Release, all: Release[] | null) {
    const m = release.metadata ?? {};
    const text = (k: string) => (typeof m[k] === 'string' ? (m[k] as string) : null);
    const arr = (k: string) => (Array.isArray(m[k]) ? (m[k] as string[]) : null);
    const projectUrls: Record<string, string> = {};
    for (const entry of arr('project_urls') ?? []) {
      const comma = entry.indexOf(',');
      if (comma > 0) projectUrls[entry.slice(0, comma).trim()] = entry.slice(comma + 1).trim();
    }
    const roles = await this.dataSource.manager.find(Role, {
      where: { projectId: project.id },
      relations: { user: true },
    });
    const base = this.config.baseUrl;
    const files = [...(release.files ?? [])].sort((a, b) => a.filename.localeCompare(b.filename));
    const body: Record<string, unknown> = {
      info: {
        author: text('author') ?? '',
        author_email: text('author_email') ?? '',
        bugtrack_url: null,
        classifiers: arr('classifiers') ?? [],
        description: release.description ?? '',
        description_content_type: release.descriptionContentType,
        docs_url: null,
        download_url: text('download_url') ?? '',
        downloads: { last_day: -1, last_month: -1, last_week: -1 },
        dynamic: arr('dynamic'),
        home_page: text('home_page') ?? '',
        keywords: text('keywords') ?? '',
        license: text('license') ?? '',
        license_expression: text('license_expression'),
        license_files: arr('license_file'),
        maintainer: text('maintainer') ?? '',
        maintainer_email: text('maintainer_email') ?? '',
        name: project.name,
        package_url: `${base}/project/${project.normalizedName}/`,
        platform: (arr('platform') ?? [])[0] ?? null,
        project_url: `${base}/project/${project.normalizedName}/`,
        project_urls: Object.keys(projectUrls).length ? projectUrls : null,
        provides_extra: arr('provides_extra'),
        release_url: `${base}/project/${project.normalizedName}/${release.version}/`,
        requires_dist: arr('requires_dist'),
        requires_python: release.requiresPython,
        summary: release.summary ?? '',
        version: release.version,
        yanked: release.yanked,
        yanked_reason: release.yankedReason,
      },
      last_serial: lastSerial(all ?? [release]),
      ownership: {
        organization: null,
        roles: roles.map((r) => ({ role: r.roleName, user: r.user?.username ?? null })),
      },
      urls: files.map((f) => this.fileJson(f, release)),
      vulnerabilities: [],
    };
    if (all) {
      const releases: Record<string, unknown[]> = {};
      for (const r of [...all].sort((a, b) => compareVersions(a.version, b.version))) {
        releases[r.version] = [...(r.files ?? [])]
          .sort((a, b) => a.filename.localeCompare(b.filename))
          .map((f) => this.fileJson(f, r));
      }
      body.releases = releases;
    }
    return body;
  }
}

/**
 * PyPI's `last_serial` counts journal entries; Larder has no journal, so it reports the time of
 * the latest upload in milliseconds — it grows with every new file, which is what mirrors use.
 */
function lastSerial(releases: Release[]): number {
  let latest = 0;
  for (const r of releases) {
    latest = Math.max(latest, r.createdAt.getTime());
    for (const f of r.files ?? []) latest = Math.max(latest, f.uploadTime.getTime());
  }
  return latest;
}
