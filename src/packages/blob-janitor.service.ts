import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../ops/ops.tokens.js';
import { STORAGE } from '../storage/storage.module.js';
import type { StorageDriver } from '../storage/storage-driver.js';
import { ReleaseFile } from './release-file.entity.js';

export interface SweepResult {
  scanned: number;
  deleted: string[];
}

/** Blobs younger than this are left alone: an upload may be between storing and committing. */
export const SWEEP_GRACE_MS = 60 * 60 * 1000;

/**
 * Keeps storage and the database in agreement: removes the bytes of a failed or deleted
 * upload once no file row references them, and sweeps blobs no row references (a crash
 * between storing and committing, or a delete whose cleanup failed).
 */
@Injectable()
export class BlobJanitor {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(STORAGE) private readonly storage: StorageDriver,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The keys among `keys` that a file row references (as the file or its `.metadata`). */
  async referenced(keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await this.dataSource.manager
      .createQueryBuilder(ReleaseFile, 'f')
      .select(['f.storageKey', 'f.metadataKey'])
      .where('f.storage_key = ANY(:keys) OR f.metadata_key = ANY(:keys)', { keys })
      .getMany();
    return new Set(rows.flatMap((r) => [r.storageKey, r.metadataKey ?? '']));
  }

  /**
   * Deletes the blobs no row references (checked after the caller's transaction ended, so a
   * concurrent upload that committed the same bytes keeps them). Never throws: a blob left
   * behind is the sweeper's.
   */
  async discard(keys: string[]): Promise<void> {
    try {
      const used = await this.referenced(keys);
      for (const key of keys) {
        if (!used.has(key)) await this.storage.delete(key);
      }
    } catch (error) {
      this.logger.warn({ err: error, keys }, 'could not remove stored blobs; the sweeper will');
    }
  }

  /** Removes every blob older than `graceMs` that no file row references. */
  async sweep(options: { graceMs?: number; dryRun?: boolean } = {}): Promise<SweepResult> {
    const cutoff = Date.now() - (options.graceMs ?? SWEEP_GRACE_MS);
    const result: SweepResult = { scanned: 0, deleted: [] };
    let batch: string[] = [];
    const flush = async () => {
      const used = await this.referenced(batch);
      for (const key of batch) {
        if (used.has(key)) continue;
        if (!options.dryRun) await this.storage.delete(key);
        result.deleted.push(key);
      }
      batch = [];
    };
    for await (const blob of this.storage.list()) {
      result.scanned++;
      if (blob.lastModified.getTime() > cutoff) continue;
      batch.push(blob.key);
      if (batch.length >= 500) await flush();
    }
    await flush();
    if (result.deleted.length > 0) {
      this.logger.info(
        { deleted: result.deleted.length, dryRun: !!options.dryRun },
        'swept unreferenced blobs',
      );
    }
    return result;
  }
}
