import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { buffer } from 'node:stream/consumers';
import request from 'supertest';
import { MultipartError, parseMultipart, type MultipartLimits } from './multipart.js';

/** A bare HTTP server answering what the parser made of the request. */
function server(limits?: Partial<MultipartLimits>, failFile = false): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    parseMultipart(req, {
      fileField: 'content',
      limits,
      onFile: async (part, before) => {
        if (failFile) throw new MultipartError('refused by onFile', 413);
        const bytes = await buffer(part.stream);
        return {
          filename: part.filename,
          mimeType: part.mimeType,
          size: bytes.length,
          fieldsBefore: [...before.keys()],
        };
      },
    }).then(
      ({ fields, file }) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ fields: Object.fromEntries(fields), file }));
      },
      (error: MultipartError) => {
        res.statusCode = error.status ?? 500;
        res.end(error.message);
      },
    );
  });
}

describe('parseMultipart', () => {
  it('keeps repeated fields and streams the file part', async () => {
    const res = await request(server())
      .post('/')
      .field('name', 'demo')
      .field('classifiers', 'A')
      .field('classifiers', 'B')
      .attach('content', Buffer.alloc(100_000, 1), {
        filename: 'demo-1.0.tar.gz',
        contentType: 'application/octet-stream',
      })
      .expect(200);
    expect(res.body).toEqual({
      fields: { name: ['demo'], classifiers: ['A', 'B'] },
      file: {
        filename: 'demo-1.0.tar.gz',
        mimeType: 'application/octet-stream',
        size: 100_000,
        fieldsBefore: ['name', 'classifiers'],
      },
    });
  });

  it('answers null for a form without the file part and drains other file parts', async () => {
    const res = await request(server())
      .post('/')
      .field('name', 'demo')
      .attach('gpg_signature', Buffer.from('sig'), 'x.asc')
      .expect(200);
    expect(res.body.file).toBeNull();
  });

  it('refuses a body that is not multipart, a malformed one, and two files', async () => {
    await request(server())
      .post('/')
      .send({ a: 1 })
      .expect(400, 'The request body must be multipart/form-data.');
    await request(server())
      .post('/')
      .set('content-type', 'multipart/form-data; boundary=xyz')
      .send('--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue-without-end')
      .expect(400, /Malformed multipart body/);
    await request(server())
      .post('/')
      .attach('content', Buffer.from('1'), 'a.whl')
      .attach('content', Buffer.from('2'), 'b.whl')
      .expect(400, "Only one 'content' file may be uploaded per request.");
  });

  it('refuses oversized fields, too many fields, invalid UTF-8 and NUL', async () => {
    await request(server({ fieldBytes: 10 }))
      .post('/')
      .field('description', 'x'.repeat(11))
      .expect(400, 'description: the value is larger than 0 KiB.');
    await request(server({ fields: 2 }))
      .post('/')
      .field('a', '1')
      .field('b', '2')
      .field('c', '3')
      .expect(400, 'Too many form fields.');
    const boundary = 'b0undary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="summary"\r\n\r\n`),
      Buffer.from([0x61, 0xff, 0x62]),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    await request(server())
      .post('/')
      .set('content-type', `multipart/form-data; boundary=${boundary}`)
      .send(body)
      .expect(400, 'summary: invalid UTF-8.');
    await request(server())
      .post('/')
      .field('summary', 'a\0b')
      .expect(400, 'summary: NUL characters are not allowed.');
  });

  it("passes on the consumer's refusal after draining the body", async () => {
    await request(server({}, true))
      .post('/')
      .attach('content', Buffer.alloc(2_000_000), 'big.whl')
      .expect(413, 'refused by onFile');
  });
});
