import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { blake2b } from 'hash-wasm';
import tarStream from 'tar-stream';
import yazl from 'yazl';

/**
 * Builds small wheels and sdists in memory, so tests vary names, versions and contents
 * without binary fixtures in the repository (see ../shared/reference §7.2, option A).
 */
export interface DistOptions {
  name: string;
  version: string;
  /** Extra core-metadata lines (`Requires-Python: >=3.8`). */
  headers?: string[];
  description?: string;
  /** Replaces the generated METADATA / PKG-INFO entirely (`null`: leave it out). */
  metadata?: string | Buffer | null;
  /** Wheel tag, `py3-none-any` by default. */
  tag?: string;
  /** Overrides the archive's file name (for mismatch tests). */
  filename?: string;
  /** Extra members: path → content. */
  extra?: Record<string, string | Buffer>;
  /** Leaves WHEEL out of a wheel. */
  noWheelFile?: boolean;
}

export interface Dist {
  filename: string;
  bytes: Buffer;
  sha256: string;
  md5: string;
  blake2b256: string;
  metadata: Buffer | null;
}

export function coreMetadata(options: DistOptions, metadataVersion = '2.1'): string {
  const lines = [
    `Metadata-Version: ${metadataVersion}`,
    `Name: ${options.name}`,
    `Version: ${options.version}`,
    'Summary: A test distribution',
    ...(options.headers ?? []),
  ];
  return `${lines.join('\n')}\n\n${options.description ?? 'Hello from a test.\n'}`;
}

export async function finish(
  filename: string,
  bytes: Buffer,
  metadata: Buffer | null,
): Promise<Dist> {
  return {
    filename,
    bytes,
    metadata,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    md5: createHash('md5').update(bytes).digest('hex'),
    blake2b256: await blake2b(bytes, 256),
  };
}

export function zipBuffer(entries: Record<string, string | Buffer>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [path, content] of Object.entries(entries)) {
    zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content), path, {
      mtime: new Date('2024-01-01T00:00:00Z'),
    });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

export async function tarGzBuffer(entries: Record<string, string | Buffer>): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const [path, content] of Object.entries(entries)) {
    pack.entry({ name: path, mtime: new Date('2024-01-01T00:00:00Z') }, content);
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

const fileName = (name: string) => name.replace(/[-_.]+/g, '_').toLowerCase();

export async function buildWheel(options: DistOptions): Promise<Dist> {
  const stem = `${fileName(options.name)}-${options.version}`;
  const filename = options.filename ?? `${stem}-${options.tag ?? 'py3-none-any'}.whl`;
  const distInfo = `${stem}.dist-info`;
  const metadata =
    options.metadata === undefined
      ? Buffer.from(coreMetadata(options))
      : options.metadata === null
        ? null
        : Buffer.from(options.metadata);
  const entries: Record<string, string | Buffer> = {
    [`${fileName(options.name)}/__init__.py`]: '__version__ = "0"\n',
    ...(options.extra ?? {}),
  };
  if (metadata) entries[`${distInfo}/METADATA`] = metadata;
  if (!options.noWheelFile) {
    entries[`${distInfo}/WHEEL`] =
      `Wheel-Version: 1.0\nGenerator: larder-tests\nRoot-Is-Purelib: true\nTag: ${options.tag ?? 'py3-none-any'}\n`;
  }
  entries[`${distInfo}/RECORD`] = '';
  return finish(filename, await zipBuffer(entries), metadata);
}

export async function buildSdist(
  options: DistOptions & { format?: 'tar.gz' | 'zip' },
): Promise<Dist> {
  const stem = `${fileName(options.name)}-${options.version}`;
  const extension = options.format === 'zip' ? 'zip' : 'tar.gz';
  const filename = options.filename ?? `${stem}.${extension}`;
  const top = filename.replace(/\.(tar\.gz|zip)$/, '');
  const metadata =
    options.metadata === undefined
      ? Buffer.from(coreMetadata(options, '2.2'))
      : options.metadata === null
        ? null
        : Buffer.from(options.metadata);
  const entries: Record<string, string | Buffer> = {
    [`${top}/pyproject.toml`]: '[build-system]\nrequires = ["setuptools"]\n',
    ...(options.extra ?? {}),
  };
  if (metadata) entries[`${top}/PKG-INFO`] = metadata;
  const bytes = extension === 'zip' ? await zipBuffer(entries) : await tarGzBuffer(entries);
  return finish(filename, bytes, metadata);
}
