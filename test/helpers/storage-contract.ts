import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { FileTooLargeError, type StorageDriver } from '../../src/storage/storage-driver.js';

/** Behaviour every driver shares; each driver's spec runs it against its own store. */
export function storageContract(make: () => StorageDriver | Promise<StorageDriver>): void {
  const chunks = (total: number, size = 64 * 1024) => {
    let sent = 0;
    return new Readable({
      read() {
        if (sent >= total) return this.push(null);
        const n = Math.min(size, total - sent);
        const chunk = Buffer.alloc(n);
        for (let i = 0; i < n; i++) chunk[i] = (sent + i) % 251;
        sent += n;
        this.push(chunk);
      },
    });
  };

  it('stores a stream and returns its size and digests (sha256, blake2b-256, md5)', async () => {
    const storage = await make();
    const blob = await storage.put(Readable.from([Buffer.from('abc')]), {
      filename: 'a-1.0.tar.gz',
      maxBytes: 100,
    });
    expect(blob).toMatchObject({ size: 3, created: true });
    expect(blob.digests).toEqual({
      sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      // hashlib.blake2b(b'abc', digest_size=32).hexdigest()
      blake2b256: 'bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319',
      md5: '900150983cd24fb0d6963f7d28e17f72',
    });
    expect((await buffer((await storage.read(blob.key))!)).toString()).toBe('abc');
    expect(await storage.stat(blob.key)).toMatchObject({ key: blob.key, size: 3 });
  });

  it('streams a file larger than its buffers, with multi-part uploads where the store has them', async () => {
    const storage = await make();
    const total = 12 * 1024 * 1024 + 17;
    const expected = createHash('sha256');
    for await (const c of chunks(total)) expected.update(c as Buffer);
    const source = chunks(total);
    const blob = await storage.put(source, {
      filename: 'big-1.0-py3-none-any.whl',
      maxBytes: total,
    });
    expect(blob.size).toBe(total);
    expect(blob.digests.sha256).toBe(expected.digest('hex'));
    const tail = await buffer(
      (await storage.read(blob.key, { start: total - 5, end: total - 1 }))!,
    );
    expect([...tail]).toEqual([...Array(5)].map((_, i) => (total - 5 + i) % 251));
  });

  it('reports identical bytes stored twice as not created the second time', async () => {
    const storage = await make();
    const first = await storage.put(Readable.from([Buffer.from('same')]), {
      filename: 's.whl',
      maxBytes: 100,
    });
    const second = await storage.put(Readable.from([Buffer.from('same')]), {
      filename: 's.whl',
      maxBytes: 100,
    });
    expect(second).toMatchObject({ key: first.key, created: false });
  });

  it('refuses a stream past the limit and keeps nothing', async () => {
    const storage = await make();
    await expect(
      storage.put(chunks(6 * 1024 * 1024), { filename: 't.whl', maxBytes: 5 * 1024 * 1024 }),
    ).rejects.toThrow(FileTooLargeError);
    const keys = [];
    for await (const blob of storage.list()) keys.push(blob.key);
    expect(keys).toEqual([]);
  });

  it('lists, deletes, and answers null for missing keys', async () => {
    const storage = await make();
    const blob = await storage.put(Readable.from([Buffer.from('x')]), {
      filename: 'l.whl',
      maxBytes: 10,
    });
    const listed = [];
    for await (const info of storage.list()) listed.push(info.key);
    expect(listed).toEqual([blob.key]);
    await storage.delete(blob.key);
    await storage.delete(blob.key);
    expect(await storage.stat(blob.key)).toBeNull();
    expect(await storage.read(blob.key)).toBeNull();
  });
}
