import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  subject: string;
  body: string;
}

const hex = (text: string) =>
  Buffer.from(
    text.replace(/=([0-9A-F]{2})/g, (_m, code: string) => String.fromCharCode(parseInt(code, 16))),
    'latin1',
  ).toString('utf8');

/** RFC 2047 Q-encoded words, as nodemailer writes subjects with quotes or non-ASCII. */
const decodeWords = (header: string) =>
  header.replace(/=\?UTF-8\?Q\?(.*?)\?=/gi, (_m, text: string) => hex(text.replace(/_/g, ' ')));

const quotedPrintable = (body: string) => hex(body.replace(/=\r?\n/g, ''));

/** A local SMTP server for tests: records what it accepts, and can refuse the next N messages. */
export async function startSmtpServer() {
  const received: ReceivedMail[] = [];
  const state = { refuse: 0, attempts: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      stream.on('end', () => {
        state.attempts += 1;
        if (state.refuse > 0) {
          state.refuse -= 1;
          // 451: a temporary failure, the kind a retry is for.
          return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
        }
        const [headers, ...body] = raw.split(/\r?\n\r?\n/);
        received.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: decodeWords(/^Subject: (.*)$/m.exec(headers)?.[1] ?? ''),
          body: quotedPrintable(body.join('\n\n')),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Polls until `check` holds (after-hooks and mail run in the background). */
export async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
