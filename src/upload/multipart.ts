import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';

/** A request body the upload API cannot read; status 400 unless said otherwise. */
export class MultipartError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'MultipartError';
  }
}

export interface MultipartLimits {
  /** Largest single text field (a long description is the usual big one). */
  fieldBytes: number;
  /** Most text fields in one form (repeated fields count each time). */
  fields: number;
  /** Most parts of any kind. */
  parts: number;
}

export const DEFAULT_LIMITS: MultipartLimits = {
  fieldBytes: 4 * 1024 * 1024,
  fields: 2000,
  parts: 2100,
};

export interface FilePart {
  filename: string;
  mimeType: string;
  stream: Readable;
}

export interface ParsedForm<T> {
  /** Every text field, in order; repeated names keep every value. */
  fields: Map<string, string[]>;
  /** What `onFile` returned for the file field, or `null` when there was none. */
  file: T | null;
}

export interface ParseOptions<T> {
  /** The one file part that is consumed (`content` for uploads); other file parts are drained. */
  fileField: string;
  limits?: Partial<MultipartLimits>;
  /**
   * Consumes the file part while the rest of the form is still arriving. It receives the
   * fields sent before the file (twine sends `content` last, so normally all of them).
   */
  onFile: (part: FilePart, fieldsSoFar: Map<string, string[]>) => Promise<T>;
}

/**
 * Streams a `multipart/form-data` request with busboy: text fields are collected (bounded),
 * the file part is handed to `onFile` as a stream — never buffered — and the request is drained
 * after a failure so the client reads the answer instead of a reset connection.
 */
export function parseMultipart<T>(
  req: IncomingMessage,
  options: ParseOptions<T>,
): Promise<ParsedForm<T>> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\s*;/i.test(type)) {
    return Promise.reject(new MultipartError('The request body must be multipart/form-data.'));
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      defParamCharset: 'utf8',
      // Keep the client's filename whole: a path in it is refused, not silently cut off.
      preservePath: true,
      limits: {
        fieldSize: limits.fieldBytes,
        fields: limits.fields,
        parts: limits.parts,
        fieldNameSize: 200,
      },
    });
  } catch (error) {
    return Promise.reject(
      new MultipartError(`Malformed multipart body: ${(error as Error).message}`),
    );
  }

  return new Promise<ParsedForm<T>>((resolve, reject) => {
    const fields = new Map<string, string[]>();
    let file: Promise<T> | null = null;
    let fileStream: Readable | null = null;
    let failed: Error | null = null;
    let finished = false;

    const fail = (error: Error) => {
      if (failed) return;
      failed = error;
      // Keep reading (and discarding) the body so the response reaches the client.
      req.unpipe(parser);
      parser.removeAllListeners('file');
      parser.on('error', () => undefined);
      req.resume();
      // Stop the consumer, and answer only once it has settled (and cleaned up after itself).
      if (fileStream && !fileStream.readableEnded) {
        fileStream.on('error', () => undefined);
        fileStream.destroy(error);
      }
      if (file)
        void file.then(
          () => reject(error),
          () => reject(error),
        );
      else reject(error);
    };

    parser.on('field', (name, value, info) => {
      if (failed) return;
      if (info.nameTruncated) return fail(new MultipartError('A field name is too long.'));
      if (info.valueTruncated) {
        return fail(
          new MultipartError(
            `${name}: the value is larger than ${Math.floor(limits.fieldBytes / 1024)} KiB.`,
          ),
        );
      }
      // busboy replaces undecodable bytes with U+FFFD: take that as invalid UTF-8.
      if (value.includes('\uFFFD')) return fail(new MultipartError(`${name}: invalid UTF-8.`));
      if (value.includes('\0'))
        return fail(new MultipartError(`${name}: NUL characters are not allowed.`));
      const list = fields.get(name) ?? [];
      list.push(value);
      fields.set(name, list);
    });

    parser.on('file', (name, stream, info) => {
      if (failed) {
        stream.resume();
        return;
      }
      if (name !== options.fileField) {
        // e.g. twine's `gpg_signature`: PyPI ignores signatures, so does Larder.
        stream.resume();
        return;
      }
      if (file) {
        stream.resume();
        return fail(new MultipartError(`Only one '${name}' file may be uploaded per request.`));
      }
      fileStream = stream;
      file = options.onFile(
        { filename: info.filename ?? '', mimeType: info.mimeType, stream },
        new Map(fields),
      );
      file.catch((error: Error) => {
        stream.resume();
        fail(error);
      });
    });

    parser.on('fieldsLimit', () => fail(new MultipartError('Too many form fields.')));
    parser.on('partsLimit', () => fail(new MultipartError('Too many form parts.')));
    parser.on('error', (error: Error) =>
      fail(new MultipartError(`Malformed multipart body: ${error.message}`)),
    );
    parser.on('close', () => {
      if (failed || finished) return;
      finished = true;
      if (!file) {
        resolve({ fields, file: null });
        return;
      }
      file.then((value) => resolve({ fields, file: value }), fail);
    });
    req.on('aborted', () => fail(new MultipartError('The client closed the connection.')));
    req.on('error', (error) => fail(new MultipartError(`Request error: ${error.message}`)));
    req.pipe(parser);
  });
}
