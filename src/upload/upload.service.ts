import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { DataSource, QueryFailedError, type EntityManager } from 'typeorm';
import type { ApiToken } from '../accounts/tokens/api-token.entity.js';
import type { User } from '../accounts/users/user.entity.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { HookBus } from '../hooks/hook-bus.js';
import { readSdistMetadata, readWheelMetadata, type ArchiveSource } from '../packages/archive.js';
import { BlobJanitor } from '../packages/blob-janitor.service.js';
import {
  checkDistributionFilename,
  checkFilenameCharacters,
  type ParsedDistribution,
} from '../packages/filenames.js';
import { FilenameRegistry } from '../packages/filename-registry.entity.js';
import {
  checkMetadataAgrees,
  MAX_METADATA_BYTES,
  parseCoreMetadata,
} from '../packages/metadata.js';
import { normalizeName } from '../packages/names.js';
import { ReleaseFile } from '../packages/release-file.entity.js';
import { fileRef, releaseRef } from '../packages/release.service.js';
import { Release } from '../packages/release.entity.js';
import { canonicalizeVersion, isPrerelease, normalizeVersion } from '../packages/version.js';
import { Project } from '../projects/project.entity.js';
import { ProjectService, projectRef } from '../projects/project.service.js';
import { STORAGE } from '../storage/storage.module.js';
import type { StorageDriver, StoredBlob } from '../storage/storage-driver.js';
import { parseMultipart } from './multipart.js';
import {
  checkAction,
  hasRequiredFields,
  parseUploadForm,
  UploadError,
  type UploadForm,
} from './upload-form.js';

/** Who uploads: a signed-in user, by session or by API token (possibly project-scoped). */
export interface Uploader {
  user: User;
  token: ApiToken | null;
}

export type UploadOutcome = 'created' | 'identical';

interface Checked {
  form: UploadForm;
  filename: string;
  parsed: ParsedDistribution;
  project: Project | null;
}

const HELP = 'https://pypi.org/help';

/** What an upload request had revealed when it failed: for `file.upload.rejected`. */
export interface UploadAttempt {
  projectName: string | null;
  project: Project | null;
  filename: string | null;
}
const attempts = new WeakMap<IncomingMessage, UploadAttempt>();

/** The attempt `req` made, or `undefined` when the upload service never saw it (refused at sign-in). */
export function uploadAttempt(req: IncomingMessage): UploadAttempt | undefined {
  return attempts.get(req);
}

function formName(fields: Map<string, string[]>): string | null {
  return fields.get('name')?.[0]?.trim() || null;
}

function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof QueryFailedError &&
    (error as QueryFailedError & { driverError?: { code?: string } }).driverError?.code === '23505'
  );
}

/**
 * The legacy upload API's rules (Warehouse `forklift/legacy.py`, in its order): form, project
 * and permission, filename, size, digests, duplicates, archive and metadata, then one
 * transaction creating the project (first upload), release (first file) and file.
 *
 * Bytes stream from the request into storage while being hashed; whatever fails after that
 * removes the bytes again unless a committed row references them.
 */
@Injectable()
export class UploadService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hooks: HookBus,
    private readonly projects: ProjectService,
    private readonly janitor: BlobJanitor,
    @Inject(STORAGE) private readonly storage: StorageDriver,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  get maxBytes(): number {
    return this.config.maxUploadMb * 1024 * 1024;
  }

  async upload(req: IncomingMessage, uploader: Uploader): Promise<UploadOutcome> {
    const created: StoredBlob[] = [];
    const attempt: UploadAttempt = { projectName: null, project: null, filename: null };
    attempts.set(req, attempt);
    try {
      const state: { early: Checked | null } = { early: null };
      const parsed = await parseMultipart(req, {
        fileField: 'content',
        onFile: async (part, fieldsSoFar) => {
          attempt.filename = part.filename;
          attempt.projectName = formName(fieldsSoFar);
          // twine sends the file last: everything but the bytes can be checked before they are read.
          if (hasRequiredFields(fieldsSoFar)) {
            state.early = await this.check(fieldsSoFar, part.filename, uploader, attempt);
          } else {
            checkFilenameCharacters(part.filename);
          }
          // Warehouse: a file part without a type, or an image, is no distribution.
          if (!part.mimeType || /^image\//i.test(part.mimeType)) {
            throw new UploadError('Invalid distribution file.');
          }
          const blob = await this.storage.put(part.stream, {
            filename: part.filename,
            maxBytes: this.maxBytes,
          });
          if (blob.created) created.push(blob);
          return { blob, filename: part.filename };
        },
      });
      attempt.projectName = formName(parsed.fields);
      if (!parsed.file) {
        checkAction(parsed.fields);
        if (hasRequiredFields(parsed.fields)) {
          parseUploadForm(parsed.fields, this.config);
        }
        throw new UploadError('Upload payload does not have a file.');
      }
      const { blob, filename } = parsed.file;
      const checked: Checked =
        state.early ?? (await this.check(parsed.fields, filename, uploader, attempt));
      this.checkDigests(checked.form, blob);

      const identical = await this.checkDuplicates(checked, blob);
      if (identical) return 'identical';

      const metadata = await this.extractMetadata(checked, blob);
      const metadataBlob = await this.storage.putBuffer(metadata, {
        filename: `${filename}.metadata`,
        maxBytes: MAX_METADATA_BYTES,
      });
      if (metadataBlob.created) created.push(metadataBlob);

      // Before-hooks (DESIGN.md §4): a plugin may still refuse; nothing is committed yet.
      await this.hooks.runBefore('file.uploading', {
        project: checked.project ? projectRef(checked.project) : null,
        projectName: checked.form.name,
        version: normalizeVersion(checked.form.version),
        file: {
          filename,
          size: blob.size,
          sha256: blob.digests.sha256,
          packagetype: checked.form.filetype,
        },
      });

      return await this.commit(checked, uploader, blob, metadataBlob);
    } catch (error) {
      await this.janitor.discard(created.map((b) => b.key));
      throw error;
    }
  }

  /** Form, project permission and filename: everything that needs no byte of the file. */
  private async check(
    fields: Map<string, string[]>,
    filename: string,
    uploader: Uploader,
    attempt?: UploadAttempt,
  ): Promise<Checked> {
    const form = parseUploadForm(fields, this.config);
    const project = await this.projects.findByName(form.name);
    if (attempt) attempt.project = project;
    await this.authorize(form.name, project, uploader);
    const parsed = checkDistributionFilename(filename, form.filetype, form.name, form.versionInput);
    return { form, filename, parsed, project };
  }

  private async authorize(
    name: string,
    project: Project | null,
    uploader: Uploader,
    manager?: EntityManager,
  ): Promise<void> {
    const scope = uploader.token?.projects ?? null;
    const normalized = project?.normalizedName ?? normalizeName(name);
    // A project-scoped token touches only its projects, and never creates another one.
    if (scope !== null && !scope.includes(normalized)) {
      throw new UploadError(
        `The given token isn't allowed to upload to project '${project?.name ?? name}'. See ${HELP}/#project-name for more information.`,
        403,
        'no_permission',
      );
    }
    if (!project) return;
    const role = await this.projects.roleOf(project.id, uploader.user.id, manager);
    if (role !== 'Owner' && role !== 'Maintainer') {
      throw new UploadError(
        `The user '${uploader.user.username}' isn't allowed to upload to project '${project.name}'. See ${HELP}/#project-name for more information.`,
        403,
        'no_permission',
      );
    }
  }

  /** Every digest the form sent must match the bytes (sha256, blake2b-256, md5). */
  private checkDigests(form: UploadForm, blob: StoredBlob): void {
    const { md5, sha256, blake2b256 } = form.digests;
    if (
      (md5 && md5 !== blob.digests.md5) ||
      (sha256 && sha256 !== blob.digests.sha256) ||
      (blake2b256 && blake2b256 !== blob.digests.blake2b256)
    ) {
      throw new UploadError(
        'The digest supplied does not match a digest calculated from the uploaded file.',
      );
    }
  }

  /**
   * `true` for an identical re-upload (same filename, same bytes: 200 and nothing written,
   * so retries are safe); a refusal for the same filename or the same bytes under another name.
   */
  private async checkDuplicates(
    checked: Checked,
    blob: StoredBlob,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<boolean> {
    const { filename } = checked;
    // The registry first: a concurrent upload commits its registry row and its file together,
    // so once the registry shows the name the file does too. Read the other way round, a commit
    // landing between the two reads looked like a deleted file's name.
    const registered = await manager.existsBy(FilenameRegistry, { filename });
    const existing = registered ? await manager.findOneBy(ReleaseFile, { filename }) : null;
    if (existing) {
      if (
        existing.sha256 === blob.digests.sha256 &&
        existing.blake2b256 === blob.digests.blake2b256
      ) {
        return true;
      }
      throw this.fileExists(filename, blob);
    }
    if (registered) {
      throw new UploadError(
        `This filename was previously used by a file that has since been deleted. Use a different version. See ${HELP}/#file-name-reuse for more information.`,
        400,
        'file_exists',
      );
    }
    const sameBytes = await manager.findOneBy(ReleaseFile, { sha256: blob.digests.sha256 });
    if (sameBytes) throw this.fileExists(sameBytes.filename, blob);
    return false;
  }

  /** twine's and poetry's `--skip-existing` look for this exact prefix: do not reword it. */
  private fileExists(filename: string, blob: StoredBlob): UploadError {
    return new UploadError(
      `File already exists ('${filename}', with blake2_256 hash '${blob.digests.blake2b256}'). See ${HELP}/#file-name-reuse for more information.`,
      400,
      'file_exists',
    );
  }

  /** The archive's core metadata, checked against the form (and kept for PEP 658). */
  private async extractMetadata(checked: Checked, blob: StoredBlob): Promise<Buffer> {
    const source: ArchiveSource = {
      size: blob.size,
      read: async (range) => {
        const stream = await this.storage.read(blob.key, range);
        if (!stream) throw new Error(`stored blob ${blob.key} vanished`);
        return stream;
      },
    };
    const found =
      checked.form.filetype === 'bdist_wheel'
        ? await readWheelMetadata(source, checked.filename)
        : await readSdistMetadata(source, checked.filename);
    checkMetadataAgrees(
      parseCoreMetadata(found.bytes),
      checked.form.name,
      checked.form.versionInput,
      found.path,
    );
    return found.bytes;
  }

  /**
   * One transaction: the project (first upload: with the uploader as Owner), the release (first
   * file of a version), the file. A unique-key race with a concurrent upload is retried, and
   * then answered as that upload's duplicate.
   */
  private async commit(
    checked: Checked,
    uploader: Uploader,
    blob: StoredBlob,
    metadataBlob: StoredBlob,
  ): Promise<UploadOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.hooks.perform(
          'file.uploaded',
          (r: { project: Project; release: Release; file: ReleaseFile }) => ({
            project: projectRef(r.project),
            release: releaseRef(r.release),
            file: fileRef(r.file),
          }),
          (manager) => this.write(manager, checked, uploader, blob, metadataBlob),
        );
        return 'created';
      } catch (error) {
        if (!isUniqueViolation(error) || attempt >= 3) throw error;
        checked.project = await this.projects.findByName(checked.form.name);
        await this.authorize(checked.form.name, checked.project, uploader);
        if (await this.checkDuplicates(checked, blob)) return 'identical';
      }
    }
  }

  private async write(
    m: EntityManager,
    checked: Checked,
    uploader: Uploader,
    blob: StoredBlob,
    metadataBlob: StoredBlob,
  ): Promise<{ project: Project; release: Release; file: ReleaseFile }> {
    const { form, parsed, filename } = checked;
    let project = await m.findOneBy(Project, { normalizedName: normalizeName(form.name) });
    if (!project) {
      await this.authorize(form.name, null, uploader, m);
      project = await this.projects.create(form.name, uploader.user, m);
    } else if (!checked.project || checked.project.id !== project.id) {
      await this.authorize(form.name, project, uploader, m);
    }
    const canonicalVersion = canonicalizeVersion(form.version);
    let release = await m.findOneBy(Release, { projectId: project.id, canonicalVersion });
    if (!release) {
      const created = project;
      release = await this.hooks.perform(
        'release.created',
        (r: Release) => ({ project: projectRef(created), release: releaseRef(r) }),
        (mm) =>
          mm.save(
            mm.create(Release, {
              projectId: created.id,
              version: normalizeVersion(form.version),
              canonicalVersion,
              isPrerelease: isPrerelease(form.version),
              requiresPython: form.requiresPython,
              summary: form.summary,
              description: form.description,
              descriptionContentType: form.descriptionContentType,
              metadataVersion: form.metadataVersion,
              metadata: form.metadata,
              uploaderId: uploader.user.id,
            }),
          ),
        { manager: m },
      );
    } else if (
      form.filetype === 'sdist' &&
      (await m.existsBy(ReleaseFile, { releaseId: release.id, packagetype: 'sdist' }))
    ) {
      throw new UploadError('Only one sdist may be uploaded per release.');
    }
    const file = await m.save(
      m.create(ReleaseFile, {
        releaseId: release.id,
        projectId: project.id,
        filename,
        size: blob.size,
        sha256: blob.digests.sha256,
        blake2b256: blob.digests.blake2b256,
        md5: blob.digests.md5,
        packagetype: form.filetype,
        pythonVersion: parsed.pythonVersion,
        requiresPython: form.requiresPython,
        storageKey: blob.key,
        metadataKey: metadataBlob.key,
        metadataSha256: metadataBlob.digests.sha256,
        metadataBlake2b256: metadataBlob.digests.blake2b256,
        comment: form.comment,
        uploaderId: uploader.user.id,
      }),
    );
    await m.save(m.create(FilenameRegistry, { filename }));
    return { project, release, file };
  }
}
