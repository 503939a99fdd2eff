import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
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

export interface S3StorageOptions {
  bucket: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  /** Key prefix inside the bucket (`files/`); empty by default. */
  prefix?: string;
  /** Only for tests against a local emulator; production uses the AWS SDK credential chain. */
  credentials?: S3ClientConfig['credentials'];
}

const TEMP_PREFIX = '.tmp/';
/** 5 MiB parts (S3's minimum) and two in flight: ~10 MiB of buffers per upload, whatever its size. */
const PART_SIZE = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;

/**
 * S3 or an S3-compatible store. The content address is known only once the bytes are read,
 * so a put streams to a unique temporary key with a multipart upload, then copies it
 * server-side to `ab/cd/<sha256>/<filename>` (unless those bytes are already there) and
 * removes the temporary. A failed upload is aborted by lib-storage; nothing stays at a final key.
 */
export class S3Storage implements StorageDriver {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3StorageOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.client = new S3Client({
      region: options.region ?? 'us-east-1',
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
      // Checksums on every request are a newer-SDK default some S3-compatible stores reject.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private objectKey(key: string): string {
    assertSafeKey(key);
    return this.prefix + key;
  }

  async put(source: Readable, options: PutOptions): Promise<StoredBlob> {
    const digester = await DigestingStream.create(options.maxBytes);
    const temp = `${TEMP_PREFIX}${randomUUID()}`;
    source.on('error', (error) => digester.destroy(error));
    const body = source.pipe(digester);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.objectKey(temp), Body: body },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
      const digests = digester.digests();
      const key = contentKey(digests.sha256, options.filename);
      const created = (await this.stat(key)) === null;
      if (created) {
        await this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: this.objectKey(key),
            CopySource: `${this.bucket}/${encodeURIComponent(this.objectKey(temp)).replace(/%2F/g, '/')}`,
          }),
        );
      }
      return { key, size: digester.byteCount, digests, created };
    } catch (error) {
      // The digester's error (too large) is the one the caller needs, not the SDK's wrapper.
      if (digester.errored) throw digester.errored;
      throw error;
    } finally {
      await this.delete(temp).catch(() => undefined);
    }
  }

  putBuffer(content: Buffer, options: PutOptions): Promise<StoredBlob> {
    return this.put(Readable.from([content]), options);
  }

  async read(key: string, range?: ByteRange): Promise<Readable | null> {
    try {
      const result = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      return result.Body as Readable;
    } catch (error) {
      if (error instanceof NoSuchKey || isNotFound(error)) return null;
      throw error;
    }
  }

  async stat(key: string): Promise<BlobInfo | null> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      return { key, size: head.ContentLength ?? 0, lastModified: head.LastModified ?? new Date() };
    } catch (error) {
      if (error instanceof NotFound || isNotFound(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
    );
  }

  async *list(): AsyncIterable<BlobInfo> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix || undefined,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        yield {
          key: object.Key.slice(this.prefix.length),
          size: object.Size ?? 0,
          lastModified: object.LastModified ?? new Date(0),
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}
