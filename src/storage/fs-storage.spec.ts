import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { FsStorage } from './fs-storage.js';
import { FileTooLargeError } from './storage-driver.js';
import { storageContract } from '../../test/helpers/storage-contract.js';

async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('FsStorage', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'larder-fs-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  storageContract(() => new FsStorage(join(root, 'files')));

  it('lays files out by content hash, as PyPI does', async () => {
    const storage = new FsStorage(root);
    const blob = await storage.put(Readable.from([Buffer.from('abc')]), {
      filename: 'a-1.tar.gz',
      maxBytes: 10,
    });
    const sha = createHash('sha256').update('abc').digest('hex');
    expect(blob.key).toBe(`${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}/a-1.tar.gz`);
    expect(await allFiles(root)).toEqual([join(root, ...blob.key.split('/'))]);
  });

  it('leaves no file behind when the source fails half-way or the limit is passed', async () => {
    const storage = new FsStorage(root);
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024));
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(storage.put(failing, { filename: 'x.whl', maxBytes: 1e6 })).rejects.toThrow(
      'connection reset',
    );
    await expect(
      storage.put(Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), {
        filename: 'x.whl',
        maxBytes: 1000,
      }),
    ).rejects.toThrow(FileTooLargeError);
    expect(await allFiles(root)).toEqual([]);
  });

  it('reads a byte range', async () => {
    const storage = new FsStorage(root);
    const blob = await storage.put(Readable.from([Buffer.from('0123456789')]), {
      filename: 'r.whl',
      maxBytes: 100,
    });
    expect(await text((await storage.read(blob.key, { start: 2, end: 4 }))!)).toBe('234');
  });

  it('refuses keys that would leave its root', async () => {
    const storage = new FsStorage(root);
    await expect(storage.read('../etc/passwd')).rejects.toThrow('unsafe storage key');
    await expect(storage.delete('a/../../b')).rejects.toThrow('unsafe storage key');
  });
});
