// Uploading a 200 MB wheel: the server's peak RSS growth (sampled from /proc) and MB/s, next to
// `cp` of the same file on the same disk. Prints figures; it does not pass or fail.
// Usage: npm run bench:upload [-- MEGABYTES]
import { execFileSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yazl from 'yazl';
import { ensureBuild } from '../scripts/ensure-build.mjs';
import { seedAccount, startServer } from './lib.mjs';

const megabytes = Number(process.argv[2] ?? 200);
ensureBuild();
const dir = mkdtempSync(join(tmpdir(), 'larder-bench-upload-'));

/** A wheel with one stored (uncompressed) member of random bytes, written to disk as it goes. */
async function bigWheel(path) {
  const zip = new yazl.ZipFile();
  const meta = 'Metadata-Version: 2.1\nName: big-pkg\nVersion: 1.0\n\n';
  zip.addBuffer(Buffer.from(meta), 'big_pkg-1.0.dist-info/METADATA');
  zip.addBuffer(
    Buffer.from('Wheel-Version: 1.0\nTag: py3-none-any\n'),
    'big_pkg-1.0.dist-info/WHEEL',
  );
  zip.addBuffer(Buffer.from(''), 'big_pkg-1.0.dist-info/RECORD');
  let left = megabytes * 1024 * 1024;
  const { Readable } = await import('node:stream');
  const data = new Readable({
    read() {
      if (left <= 0) return this.push(null);
      const n = Math.min(1024 * 1024, left);
      left -= n;
      this.push(randomBytes(n));
    },
  });
  zip.addReadStream(data, 'big_pkg/blob.bin', { compress: false });
  zip.end();
  await new Promise((resolve, reject) =>
    zip.outputStream.pipe(createWriteStream(path)).on('finish', resolve).on('error', reject),
  );
}

function rssKb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

/** Streams the multipart body from disk: the client holds no more than a chunk either. */
function upload(port, token, path, filename, sha256) {
  const boundary = `----bench${Date.now()}`;
  const fields = {
    ':action': 'file_upload',
    protocol_version: '1',
    name: 'big-pkg',
    version: '1.0',
    filetype: 'bdist_wheel',
    pyversion: 'py3',
    metadata_version: '2.1',
    sha256_digest: sha256,
  };
  const head = Buffer.from(
    Object.entries(fields)
      .map(
        ([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
      )
      .join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name="content"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const size = statSync(path).size;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/legacy/',
        method: 'POST',
        headers: {
          'Content-Type': `multipart/form-data; boundary=${boundary}`,
          'Content-Length': head.length + size + tail.length,
          Authorization: `Basic ${Buffer.from(`__token__:${token}`).toString('base64')}`,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(`${res.statusCode} ${res.statusMessage}`));
      },
    );
    req.on('error', reject);
    req.write(head);
    createReadStream(path)
      .on('end', () => req.end(tail))
      .pipe(req, { end: false });
  });
}

try {
  const file = join(dir, 'big_pkg-1.0-py3-none-any.whl');
  await bigWheel(file);
  const size = statSync(file).size;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  const sha256 = hash.digest('hex');

  // cp on the same disk, made durable like the server's write (fsync), cold-ish cache aside.
  const t0 = performance.now();
  execFileSync('cp', [file, join(dir, 'copy.whl')]);
  execFileSync('sync', [join(dir, 'copy.whl')]);
  const cpSeconds = (performance.now() - t0) / 1000;
  rmSync(join(dir, 'copy.whl'));

  const dataDir = join(dir, 'data');
  const env = { LARDER_DATA_DIR: dataDir, LARDER_MAX_UPLOAD_MB: String(megabytes + 10) };
  const token = seedAccount(env);
  const server = await startServer(env);
  try {
    await new Promise((r) => setTimeout(r, 500));
    const baseline = rssKb(server.pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssKb(server.pid));
    }, 20);
    const t1 = performance.now();
    const status = await upload(server.port, token, file, 'big_pkg-1.0-py3-none-any.whl', sha256);
    const seconds = (performance.now() - t1) / 1000;
    clearInterval(sampler);
    const mb = size / (1024 * 1024);
    console.log(`file: ${mb.toFixed(1)} MiB wheel (stored member of random bytes)`);
    console.log(
      `upload: ${status} in ${seconds.toFixed(2)} s = ${(mb / seconds).toFixed(0)} MiB/s`,
    );
    console.log(
      `cp + sync of the same file: ${cpSeconds.toFixed(2)} s = ${(mb / cpSeconds).toFixed(0)} MiB/s`,
    );
    console.log(
      `server RSS: baseline ${(baseline / 1024).toFixed(1)} MiB, peak ${(peak / 1024).toFixed(1)} MiB, growth ${((peak - baseline) / 1024).toFixed(1)} MiB`,
    );
  } finally {
    await server.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
