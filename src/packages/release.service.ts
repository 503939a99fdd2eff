import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { FileRef, ReleaseRef } from '../hooks/hook-map.js';
import { HookBus } from '../hooks/hook-bus.js';
import type { Project } from '../projects/project.entity.js';
import { ProjectError, projectRef } from '../projects/project.service.js';
import { ReleaseFile } from './release-file.entity.js';
import { Release } from './release.entity.js';
import { canonicalizeVersion, compareVersions, tryParseVersion } from './version.js';

export function releaseRef(release: Release): ReleaseRef {
  return { id: release.id, version: release.version, canonicalVersion: release.canonicalVersion };
}

export function fileRef(file: ReleaseFile): FileRef {
  return {
    id: file.id,
    filename: file.filename,
    size: file.size,
    sha256: file.sha256,
    packagetype: file.packagetype,
  };
}

/** Longest yank reason kept (it is shown by pip in a warning line). */
export const MAX_YANK_REASON = 500;

/** Releases and files after upload: listing, yanking (PEP 592) and deleting. */
@Injectable()
export class ReleaseService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hooks: HookBus,
  ) {}

  /** Newest first, by PEP 440 order. */
  async list(projectId: string): Promise<Release[]> {
    const releases = await this.dataSource.manager.find(Release, {
      where: { projectId },
      relations: { files: true },
    });
    return releases.sort((a, b) => compareVersions(b.version, a.version));
  }

  /** By any spelling of the version: `1.0.0` finds `1.0` (canonical form, as PyPI looks up). */
  async find(projectId: string, version: string): Promise<Release | null> {
    const parsed = tryParseVersion(version);
    if (!parsed) return null;
    return this.dataSource.manager.findOne(Release, {
      where: { projectId, canonicalVersion: canonicalizeVersion(parsed) },
      relations: { files: true },
    });
  }

  async yank(project: Project, release: Release, reason: string): Promise<void> {
    const trimmed = reason.trim();
    if (trimmed.length > MAX_YANK_REASON) {
      throw new ProjectError(`The reason may be at most ${MAX_YANK_REASON} characters.`);
    }
    if (release.yanked) throw new ProjectError(`${release.version} is already yanked.`, 409);
    await this.hooks.perform(
      'release.yanked',
      { project: projectRef(project), release: releaseRef(release), reason: trimmed || null },
      async (m) => {
        release.yanked = true;
        release.yankedReason = trimmed || null;
        await m.save(Release, stripFiles(release));
      },
    );
  }

  async unyank(project: Project, release: Release): Promise<void> {
    if (!release.yanked) throw new ProjectError(`${release.version} is not yanked.`, 409);
    await this.hooks.perform(
      'release.unyanked',
      { project: projectRef(project), release: releaseRef(release) },
      async (m) => {
        release.yanked = false;
        release.yankedReason = null;
        await m.save(Release, stripFiles(release));
      },
    );
  }

  /**
   * Deletes a release and its files, each removed through the manager so the audit sees every
   * row. Returns the storage keys to delete once committed.
   */
  async deleteRelease(project: Project, release: Release, confirmation: string): Promise<string[]> {
    if (
      tryParseVersion(confirmation.trim()) === null ||
      canonicalizeVersion(confirmation.trim()) !== release.canonicalVersion
    ) {
      throw new ProjectError(`Type the version ("${release.version}") to confirm deleting it.`);
    }
    return this.hooks.perform(
      'release.deleted',
      { project: projectRef(project), release: releaseRef(release) },
      async (m) => {
        const files = await m.findBy(ReleaseFile, { releaseId: release.id });
        await m.remove(files);
        const fresh = await m.findOneBy(Release, { id: release.id });
        if (fresh) await m.remove(fresh);
        return files.flatMap(storageKeys);
      },
    );
  }

  /** Deletes one file; its filename stays used (never reusable for other bytes). */
  async deleteFile(project: Project, release: Release, filename: string): Promise<string[]> {
    const file = await this.dataSource.manager.findOneBy(ReleaseFile, {
      releaseId: release.id,
      filename,
    });
    if (!file) throw new ProjectError(`No file named "${filename}" in ${release.version}.`, 404);
    return this.hooks.perform(
      'file.deleted',
      { project: projectRef(project), release: releaseRef(release), file: fileRef(file) },
      async (m) => {
        const keys = storageKeys(file);
        await m.remove(file);
        return keys;
      },
    );
  }
}

export function storageKeys(file: ReleaseFile): string[] {
  return file.metadataKey ? [file.storageKey, file.metadataKey] : [file.storageKey];
}

/** Saves the release row alone, not its loaded files (which `save` would cascade-check). */
function stripFiles(release: Release): Release {
  const { files: _files, ...rest } = release;
  return rest as Release;
}
