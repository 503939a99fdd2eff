import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestingStream } from './digesting-stream.js';
import {
  assertSafeKey,
  contentKey,
  type BlobInfo,
  type ByteRange,
  type PutOptions,
  type StorageDriver,
  type StoredBlob,
} from './storage-driver.js';

/** Unfinished writes live here; the sweeper removes the ones a crash left behind. */
export const TEMP_DIR = '.tmp';

/**
 * Files under `<LARDER_DATA_DIR>/files`, at content-addressed paths. A write goes to a temp
 * file, is fsynced, then hard-linked into place — `link` fails if the path exists, so of two
 * identical uploads exactly one reports `created` — and the temp name is removed. A failed or
 * interrupted write never leaves a file at a final path.
 */
export class FsStorage implements StorageDriver {
  readonly kind = 'fs' as const;

  constructor(readonly root: string) {}

  private path(key: string): string {
    assertSafeKey(key);
    return join(this.root, ...key.split('/'));
  }

  async put(source: Readable, options: PutOptions): Promise<StoredBlob> {
    const tempDir = join(this.root, TEMP_DIR);
    await mkdir(tempDir, { recursive: true });
    const temp = join(tempDir, randomUUID());
    const digester = await DigestingStream.create(options.maxBytes);
    try {
      await pipeline(source, digester, createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
      const handle = await open(temp, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      const digests = digester.digests();
      const key = contentKey(digests.sha256, options.filename);
      const final = this.path(key);
      await mkdir(dirname(final), { recursive: true });
      let created = true;
      try {
        await link(temp, final);
        await syncDir(dirname(final));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        created = false;
      }
      return { key, size: digester.byteCount, digests, created };
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  putBuffer(content: Buffer, options: PutOptions): Promise<StoredBlob> {
    return this.put(Readable.from([content]), options);
  }

  async read(key: string, range?: ByteRange): Promise<Readable | null> {
    const path = this.path(key);
    try {
      const handle = await open(path, 'r');
      return handle.createReadStream({ start: range?.start, end: range?.end });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async stat(key: string): Promise<BlobInfo | null> {
    try {
      const info = await stat(this.path(key));
      return { key, size: info.size, lastModified: info.mtime };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.path(key);
    await rm(path, { force: true });
    // Drop the now-empty hash directories, up to the root; a non-empty one stops the walk.
    let dir = dirname(path);
    while (dir.startsWith(this.root + sep) && dir !== join(this.root, TEMP_DIR)) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
      dir = dirname(dir);
    }
  }

  async *list(): AsyncIterable<BlobInfo> {
    yield* this.walk(this.root);
  }

  private async *walk(dir: string): AsyncIterable<BlobInfo> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        yield* this.walk(full);
      } else if (entry.isFile()) {
        const info = await stat(full).catch(() => null);
        if (info) {
          yield {
            key: relative(this.root, full).split(sep).join('/'),
            size: info.size,
            lastModified: info.mtime,
          };
        }
      }
    }
  }
}

/** Makes the new directory entry durable (POSIX: fsync the directory after a link/rename). */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on directories; the data itself is already synced.
  } finally {
    await handle.close();
  }
}
