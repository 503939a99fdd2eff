import { pino, type Logger } from 'pino';
import { Writable } from 'node:stream';

/** A pino logger whose lines a test can read back: `logs.lines` holds the parsed JSON. */
export function captureLogs(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug', base: undefined }, stream), lines };
}
