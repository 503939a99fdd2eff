import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import yauzl from 'yauzl';
import { MAX_METADATA_BYTES } from './metadata.js';

/** The archive is not a usable distribution; the message is shown to the uploader. */
export class InvalidArchiveError extends Error {
  constructor(detail: string) {
    super(`Invalid distribution file. ${detail}`);
    this.name = 'InvalidArchiveError';
  }
}

/** Bytes of a stored file, read by range: a local file or an S3 object alike. */
export interface ArchiveSource {
  size: number;
  /** Inclusive range; the whole file when omitted. */
  read(range?: { start: number; end: number }): Promise<Readable>;
}

export interface ExtractedMetadata {
  /** Path inside the archive (`demo_pkg-1.0.dist-info/METADATA`). */
  path: string;
  bytes: Buffer;
}

/** Warehouse refuses archives inflating more than 50× once they pass 64 MiB (zip bombs). */
const MAX_RATIO = 50;
const RATIO_FLOOR = 64 * 1024 * 1024;

function openZip(source: ArchiveSource): Promise<yauzl.ZipFile> {
  class Reader extends yauzl.RandomAccessReader {
    _readStreamForRange(start: number, end: number): Readable {
      // yauzl wants the stream synchronously; the source answers asynchronously.
      const out = new PassThrough();
      if (end <= start) {
        out.end();
        return out;
      }
      source.read({ start, end: end - 1 }).then(
        (stream) => {
          stream.on('error', (error) => out.destroy(error));
          stream.pipe(out);
        },
        (error: Error) => out.destroy(error),
      );
      return out;
    }
  }
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(
      new Reader(),
      source.size,
      { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true },
      (error, zip) =>
        error ? reject(new InvalidArchiveError('File is not a zipfile')) : resolve(zip),
    );
  });
}

/** Lists the central directory: names and declared sizes, no data read. */
async function zipEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  const entries: yauzl.Entry[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve());
    zip.on('error', (error: Error) =>
      reject(new InvalidArchiveError(`Bad zip file: ${error.message}`)),
    );
    zip.readEntry();
  });
  return entries;
}

async function readZipEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    throw new InvalidArchiveError('File does not use a supported compression type');
  }
  if (entry.uncompressedSize > MAX_METADATA_BYTES) {
    throw new InvalidArchiveError(
      `${entry.fileName} is larger than ${MAX_METADATA_BYTES / (1024 * 1024)} MiB.`,
    );
  }
  const stream = await new Promise<Readable>((resolve, reject) =>
    zip.openReadStream(entry, (error, s) =>
      error
        ? reject(new InvalidArchiveError(`Cannot read ${entry.fileName}: ${error.message}`))
        : resolve(s),
    ),
  );
  // yauzl's validateEntrySizes stops a stream that inflates past its declared size.
  return collect(stream, MAX_METADATA_BYTES, entry.fileName);
}

async function collect(
  stream: AsyncIterable<unknown> & { destroy(): unknown },
  limit: number,
  what: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      total += (chunk as Buffer).length;
      if (total > limit) {
        stream.destroy();
        throw new InvalidArchiveError(`${what} is larger than ${limit / (1024 * 1024)} MiB.`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof InvalidArchiveError) throw error;
    throw new InvalidArchiveError(`Cannot read ${what}: ${(error as Error).message}`);
  }
  return Buffer.concat(chunks);
}

function checkZipRatio(entries: yauzl.Entry[], size: number): void {
  const total = entries.reduce((sum, e) => sum + e.uncompressedSize, 0);
  if (total > RATIO_FLOOR && total > size * MAX_RATIO) {
    throw new InvalidArchiveError(`File exceeds compression ratio of ${MAX_RATIO}`);
  }
}

/**
 * A wheel's core metadata (PEP 427): `{name}-{version}.dist-info/METADATA`, where name and
 * version are the filename's first two parts (as Warehouse reads it), or else the single
 * top-level `.dist-info` directory whose METADATA exists. WHEEL must be there too.
 */
export async function readWheelMetadata(
  source: ArchiveSource,
  filename: string,
): Promise<ExtractedMetadata> {
  const zip = await openZip(source);
  try {
    const entries = await zipEntries(zip);
    checkZipRatio(entries, source.size);
    const byName = new Map(entries.map((e) => [e.fileName, e]));
    const [name, version] = filename.replace(/\.whl$/, '').split('-');
    let distInfo = `${name}-${version}.dist-info`;
    if (!byName.has(`${distInfo}/METADATA`)) {
      const candidates = entries
        .map((e) => /^([^/]+\.dist-info)\/METADATA$/.exec(e.fileName)?.[1])
        .filter((d): d is string => d !== undefined);
      if (candidates.length !== 1) {
        throw new InvalidArchiveError(
          `Wheel '${filename}' does not contain the required METADATA file: ${distInfo}/METADATA`,
        );
      }
      distInfo = candidates[0];
    }
    if (!byName.has(`${distInfo}/WHEEL`)) {
      throw new InvalidArchiveError(
        `Wheel '${filename}' does not contain the required WHEEL file: ${distInfo}/WHEEL`,
      );
    }
    const path = `${distInfo}/METADATA`;
    return { path, bytes: await readZipEntry(zip, byName.get(path)!) };
  } finally {
    zip.close();
  }
}

/** A `.zip` sdist (legacy): `<top>/PKG-INFO` under its single top-level directory. */
async function readZipSdistMetadata(source: ArchiveSource): Promise<ExtractedMetadata> {
  const zip = await openZip(source);
  try {
    const entries = await zipEntries(zip);
    checkZipRatio(entries, source.size);
    const tops = new Set(entries.map((e) => e.fileName.split('/')[0]));
    if (tops.size !== 1) {
      throw new InvalidArchiveError('Incorrect number of top-level directories in sdist');
    }
    const path = `${[...tops][0]}/PKG-INFO`;
    const entry = entries.find((e) => e.fileName === path);
    if (!entry) throw new InvalidArchiveError(`PKG-INFO not found at ${path}`);
    return { path, bytes: await readZipEntry(zip, entry) };
  } finally {
    zip.close();
  }
}

/**
 * A `.tar.gz` sdist (PEP 625 / source distribution format): `<top>/PKG-INFO`, where `<top>`
 * is the first member's top directory. Reading stops once PKG-INFO is found; inflation is
 * bounded so a gzip bomb costs a bounded amount of work.
 */
async function readTarSdistMetadata(source: ArchiveSource): Promise<ExtractedMetadata> {
  const input = await source.read();
  const gunzip = createGunzip();
  const extract = tarStream.extract();
  const inflateLimit = Math.max(RATIO_FLOOR, source.size * MAX_RATIO);
  let inflated = 0;
  let top: string | null = null;
  return new Promise<ExtractedMetadata>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | null, result?: ExtractedMetadata) => {
      if (settled) return;
      settled = true;
      input.unpipe(gunzip);
      input.destroy();
      gunzip.destroy();
      extract.destroy();
      if (error) reject(error);
      else resolve(result!);
    };
    gunzip.on('data', (chunk: Buffer) => {
      inflated += chunk.length;
      if (inflated > inflateLimit) {
        finish(new InvalidArchiveError(`File exceeds compression ratio of ${MAX_RATIO}`));
      }
    });
    input.on('error', (error) =>
      finish(new InvalidArchiveError(`Cannot read file: ${error.message}`)),
    );
    gunzip.on('error', () => finish(new InvalidArchiveError('File is not a tarfile')));
    extract.on('error', () => finish(new InvalidArchiveError('File is not a tarfile')));
    extract.on('entry', (header, stream, next) => {
      const name = header.name.replace(/^\.\//, '');
      const first = name.split('/')[0];
      if (top === null) top = first;
      else if (first !== top) {
        stream.resume();
        finish(new InvalidArchiveError('Incorrect number of top-level directories in sdist'));
        return;
      }
      if (name === `${top}/PKG-INFO` && header.type === 'file') {
        if ((header.size ?? 0) > MAX_METADATA_BYTES) {
          stream.resume();
          finish(
            new InvalidArchiveError(
              `PKG-INFO is larger than ${MAX_METADATA_BYTES / (1024 * 1024)} MiB.`,
            ),
          );
          return;
        }
        collect(stream, MAX_METADATA_BYTES, 'PKG-INFO').then(
          (bytes) => finish(null, { path: name, bytes }),
          (error: Error) => finish(error),
        );
        return;
      }
      stream.on('end', () => next());
      stream.resume();
    });
    extract.on('finish', () =>
      finish(new InvalidArchiveError(`PKG-INFO not found at ${top ?? '<top>'}/PKG-INFO`)),
    );
    input.pipe(gunzip).pipe(extract);
  });
}

export function readSdistMetadata(
  source: ArchiveSource,
  filename: string,
): Promise<ExtractedMetadata> {
  return filename.endsWith('.zip') ? readZipSdistMetadata(source) : readTarSdistMetadata(source);
}
