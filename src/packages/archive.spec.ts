import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buildSdist, buildWheel, tarGzBuffer, zipBuffer } from '../../test/helpers/dists.js';
import {
  InvalidArchiveError,
  readSdistMetadata,
  readWheelMetadata,
  type ArchiveSource,
} from './archive.js';
import { field, parseCoreMetadata } from './metadata.js';

function source(bytes: Buffer): ArchiveSource & { reads: number } {
  const s = {
    size: bytes.length,
    reads: 0,
    async read(range?: { start: number; end: number }) {
      s.reads++;
      return Readable.from([range ? bytes.subarray(range.start, range.end + 1) : bytes]);
    },
  };
  return s;
}

const FIXTURES = join(process.cwd(), '..', 'shared', 'fixtures', 'dists');

describe('reading metadata from archives', () => {
  it('reads METADATA from a wheel', async () => {
    const wheel = await buildWheel({ name: 'demo-pkg', version: '1.0' });
    const found = await readWheelMetadata(source(wheel.bytes), wheel.filename);
    expect(found.path).toBe('demo_pkg-1.0.dist-info/METADATA');
    expect(found.bytes.equals(wheel.metadata!)).toBe(true);
  });

  it('reads the real pip wheel', async () => {
    const bytes = await readFile(join(FIXTURES, 'pip-23.2.1-py3-none-any.whl'));
    const found = await readWheelMetadata(source(bytes), 'pip-23.2.1-py3-none-any.whl');
    expect(field(parseCoreMetadata(found.bytes), 'Version')).toBe('23.2.1');
  });

  it('finds a dist-info directory whose name differs from the filename', async () => {
    const bytes = await zipBuffer({
      'Demo_Pkg-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\nName: Demo_Pkg\nVersion: 1.0\n',
      'Demo_Pkg-1.0.dist-info/WHEEL': 'Wheel-Version: 1.0\n',
    });
    const found = await readWheelMetadata(source(bytes), 'demo_pkg-1.0-py3-none-any.whl');
    expect(found.path).toBe('Demo_Pkg-1.0.dist-info/METADATA');
  });

  it('refuses a wheel without METADATA, without WHEEL, or that is no zip', async () => {
    const noMeta = await buildWheel({ name: 'demo', version: '1.0', metadata: null });
    await expect(readWheelMetadata(source(noMeta.bytes), noMeta.filename)).rejects.toThrow(
      "Wheel 'demo-1.0-py3-none-any.whl' does not contain the required METADATA file: demo-1.0.dist-info/METADATA",
    );
    const noWheel = await buildWheel({ name: 'demo', version: '1.0', noWheelFile: true });
    await expect(readWheelMetadata(source(noWheel.bytes), noWheel.filename)).rejects.toThrow(
      'WHEEL',
    );
    await expect(
      readWheelMetadata(source(Buffer.from('not a zip at all')), 'demo-1.0-py3-none-any.whl'),
    ).rejects.toThrow('Invalid distribution file. File is not a zipfile');
  });

  it('refuses a huge METADATA without inflating it (zip bomb)', async () => {
    const huge = await buildWheel({
      name: 'demo',
      version: '1.0',
      metadata: Buffer.alloc(5 * 1024 * 1024, 0x41),
    });
    expect(huge.bytes.length).toBeLessThan(64 * 1024);
    await expect(readWheelMetadata(source(huge.bytes), huge.filename)).rejects.toThrow(
      'larger than 4 MiB',
    );
  });

  it('refuses an archive inflating far beyond 50x', async () => {
    const bomb = await buildWheel({
      name: 'demo',
      version: '1.0',
      extra: { 'big.bin': Buffer.alloc(80 * 1024 * 1024) },
    });
    await expect(readWheelMetadata(source(bomb.bytes), bomb.filename)).rejects.toThrow(
      'compression ratio of 50',
    );
  });

  it('reads PKG-INFO from tar.gz and zip sdists', async () => {
    const tar = await buildSdist({
      name: 'acme-widgets',
      version: '1.0',
      filename: 'acme-widgets-1.0.tar.gz',
    });
    const found = await readSdistMetadata(source(tar.bytes), tar.filename);
    expect(found.path).toBe('acme-widgets-1.0/PKG-INFO');
    expect(found.bytes.equals(tar.metadata!)).toBe(true);
    const zip = await buildSdist({ name: 'acme', version: '1.0', format: 'zip' });
    expect((await readSdistMetadata(source(zip.bytes), zip.filename)).path).toBe(
      'acme-1.0/PKG-INFO',
    );
  });

  it('refuses sdists without PKG-INFO, with two top directories, or that are not gzip', async () => {
    const none = await buildSdist({ name: 'a', version: '1', metadata: null });
    await expect(readSdistMetadata(source(none.bytes), none.filename)).rejects.toThrow(
      'PKG-INFO not found at a-1/PKG-INFO',
    );
    const two = await tarGzBuffer({ 'a-1/x': 'x', 'b-1/PKG-INFO': 'Name: a\n' });
    await expect(readSdistMetadata(source(two), 'a-1.tar.gz')).rejects.toThrow(
      'Incorrect number of top-level directories',
    );
    await expect(
      readSdistMetadata(source(Buffer.from('plain text')), 'a-1.tar.gz'),
    ).rejects.toThrow(InvalidArchiveError);
  });
});
