import { createHash } from 'node:crypto';
import type { Dist } from './dists.js';
import { basicAuth } from './factories.js';
import type { TestApp } from './test-app.js';

export type FormFields = Record<string, string | string[] | undefined>;

/** The form twine 4 sends for a distribution (empty strings included, as it does). */
export function twineFields(dist: Dist, name: string, version: string): FormFields {
  const wheel = dist.filename.endsWith('.whl');
  return {
    ':action': 'file_upload',
    protocol_version: '1',
    name,
    version,
    filetype: wheel ? 'bdist_wheel' : 'sdist',
    pyversion: wheel ? 'py3' : '',
    metadata_version: '2.1',
    summary: 'A test distribution',
    author: '',
    description: '',
    md5_digest: dist.md5,
    sha256_digest: dist.sha256,
    blake2_256_digest: dist.blake2b256,
  };
}

export interface UploadOptions {
  token?: string;
  /** Overrides and additions to the twine fields; `undefined` removes a field. */
  fields?: FormFields;
  /** Send the file under another name / type, or not at all. */
  filename?: string;
  contentType?: string;
  noFile?: boolean;
  path?: string;
  accept?: string;
}

/** POSTs an upload like twine does: fields first, `content` last, HTTP Basic `__token__`. */
export function upload(
  t: TestApp,
  dist: Dist,
  name: string,
  version: string,
  options: UploadOptions = {},
) {
  let req = t.http().post(options.path ?? '/legacy/');
  if (options.token) req = req.set('Authorization', basicAuth(options.token));
  if (options.accept) req = req.set('Accept', options.accept);
  const fields = { ...twineFields(dist, name, version), ...(options.fields ?? {}) };
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) req = req.field(key, v);
  }
  if (!options.noFile) {
    req = req.attach('content', dist.bytes, {
      filename: options.filename ?? dist.filename,
      contentType: options.contentType ?? 'application/octet-stream',
    });
  }
  return req;
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Builds the multipart body by hand, for what supertest's form-data would alter (it cuts a
 * filename down to its basename).
 */
export function rawMultipart(
  fields: FormFields,
  file: { filename: string; bytes: Buffer; contentType?: string },
): { body: Buffer; contentType: string } {
  const boundary = `----larder${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      parts.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${v}\r\n`,
        ),
      );
    }
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="content"; filename="${file.filename}"\r\n` +
        `Content-Type: ${file.contentType ?? 'application/octet-stream'}\r\n\r\n`,
    ),
    file.bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The reason phrase of a supertest response (what twine prints). */
export function statusMessage(res: unknown): string {
  return (res as { res: { statusMessage: string } }).res.statusMessage;
}
