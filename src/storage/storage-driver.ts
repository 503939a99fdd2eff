import type { Readable } from 'node:stream';

/** The digests PyPI records for every file (`sha256`, `blake2b_256`, `md5` in its JSON API). */
export interface Digests {
  sha256: string;
  blake2b256: string;
  md5: string;
}

export interface StoredBlob {
  /** Where the bytes live, relative to the driver's root: `ab/cd/<sha256>/<filename>`. */
  key: string;
  size: number;
  digests: Digests;
  /**
   * False when identical bytes were already stored under this key (an identical re-upload):
   * the caller must then never delete the blob on failure, it is someone else's.
   */
  created: boolean;
}

export interface BlobInfo {
  key: string;
  size: number;
  lastModified: Date;
}

/** Inclusive byte range, as HTTP `Range` gives it. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface PutOptions {
  /** The last path component of the key; already checked to be a safe filename. */
  filename: string;
  /** Refuse (with {@link FileTooLargeError}) as soon as the stream passes this many bytes. */
  maxBytes: number;
}

/**
 * File storage: bytes in, bytes out, nothing about packages. Implementations stream — a whole
 * file is never held in memory — and leave nothing behind when a `put` fails.
 */
export interface StorageDriver {
  readonly kind: 'fs' | 's3';
  /** Stores the stream under a content-addressed key while computing its digests. */
  put(source: Readable, options: PutOptions): Promise<StoredBlob>;
  /** Small, already-buffered content (a `.metadata` file). */
  putBuffer(content: Buffer, options: PutOptions): Promise<StoredBlob>;
  /** A read stream, or `null` when the key does not exist. */
  read(key: string, range?: ByteRange): Promise<Readable | null>;
  stat(key: string): Promise<BlobInfo | null>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Every stored key, for the sweeper (including unfinished temporaries). */
  list(): AsyncIterable<BlobInfo>;
  /** A URL the client may fetch directly (S3 pre-signed), when the driver offers one. */
  directUrl?(key: string, filename: string): Promise<string | null>;
  close?(): Promise<void>;
}

export class FileTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`File too large. Limit is ${Math.floor(limitBytes / (1024 * 1024))} MB.`);
    this.name = 'FileTooLargeError';
  }
}

/** Content-addressed key as PyPI lays out its files host: `ab/cd/<hash>/<filename>`. */
export function contentKey(sha256: string, filename: string): string {
  return `${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}/${filename}`;
}

/** Keys the drivers will touch: no absolute path, no `..`, no empty segment, no backslash. */
export function assertSafeKey(key: string): void {
  const segments = key.split('/');
  if (
    key.length === 0 ||
    key.includes('\\') ||
    key.includes('\0') ||
    segments.some((s) => s === '' || s === '.' || s === '..')
  ) {
    throw new Error(`unsafe storage key: ${JSON.stringify(key)}`);
  }
}
