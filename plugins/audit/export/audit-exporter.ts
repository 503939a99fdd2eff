import { Inject, Injectable, Optional } from '@nestjs/common';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataSource } from 'typeorm';
import { ACCOUNT_DIRECTORY, type AccountDirectory } from '../../../src/plugin-api/index.js';
import type { ExportFormat } from '../audit.dto.js';
import { eventsAfter, idRange, type EventFilter, type StoredEvent } from '../audit.queries.js';
import { AuditRenderer } from '../audit.renderer.js';
import { AuditWriter } from '../audit.writer.js';
import { csvLine } from './csv.js';

/** The columns of an export, in order (issue 6 item 5), plus the rendered description. */
export const EXPORT_COLUMNS = [
  'id',
  'tag',
  'occurred_at',
  'actor_name',
  'actor_kind',
  'user',
  'project_name',
  'ip',
  'user_agent',
  'request_id',
  'additional',
  'description',
] as const;
export type ExportRow = Record<(typeof EXPORT_COLUMNS)[number], unknown>;

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/jsonl; charset=utf-8',
};

/**
 * Rows per query. Each batch is one short query; no connection is held while the batch is
 * written out, so on the embedded database (one connection) other requests run in between.
 */
export const EXPORT_BATCH = 2000;

/**
 * The one export (the admin page's download and `larder audit export`): keyset batches turned
 * into CSV or JSON Lines and piped to `out` with backpressure, so memory stays flat whatever the
 * size of the log. Every export is itself recorded as `admin:audit:export`.
 */
@Injectable()
export class AuditExporter {
  constructor(
    private readonly dataSource: DataSource,
    private readonly renderer: AuditRenderer,
    private readonly writer: AuditWriter,
    @Optional() @Inject(ACCOUNT_DIRECTORY) private readonly accounts?: AccountDirectory,
  ) {}

  /**
   * Streams the events matching `filter` to `out` and returns how many were written. `filters`
   * (what the admin asked for) is recorded with the export. `end: false` leaves `out` open
   * (stdout). A reader that goes away ends the export early, recorded with the rows sent.
   */
  async export(
    filter: EventFilter,
    format: ExportFormat,
    filters: Record<string, string>,
    out: Writable,
    options: { end?: boolean } = {},
  ): Promise<number> {
    let rows = 0;
    // highWaterMark 1: at most one batch waits in the stream while `out` is slow.
    const source = Readable.from(
      this.chunks(filter, format, (n) => (rows += n)),
      {
        objectMode: true,
        highWaterMark: 1,
      },
    );
    let complete = false;
    try {
      // `out` is ended only once the export is recorded, so whoever reads it to the end can
      // count on the event being there.
      await pipeline(source, out, { end: false });
      complete = true;
    } catch (error) {
      // The browser or the pipe went away: nothing to answer, but the export still happened.
      if ((error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
    } finally {
      await this.writer.record({
        tag: 'admin:audit:export',
        plugin: 'audit',
        additional: { format, filters, rows },
      });
    }
    if (complete && (options.end ?? true)) {
      await new Promise<void>((resolve) => out.end(resolve));
    }
    return rows;
  }

  private async *chunks(
    filter: EventFilter,
    format: ExportFormat,
    count: (n: number) => void,
  ): AsyncGenerator<string> {
    if (format === 'csv') yield csvLine([...EXPORT_COLUMNS]);
    let after = '0';
    // The date range, as ids, once rather than per batch.
    const resolved = await idRange(this.dataSource.manager, filter);
    for (;;) {
      const batch = await eventsAfter(this.dataSource.manager, resolved, after, EXPORT_BATCH);
      if (batch.length === 0) return;
      const names = await this.usernamesOf(batch);
      let text = '';
      for (const event of batch) {
        const row = this.row(event, names);
        text +=
          format === 'csv'
            ? csvLine(EXPORT_COLUMNS.map((column) => row[column]))
            : `${JSON.stringify(row)}\n`;
      }
      count(batch.length);
      after = batch[batch.length - 1].id;
      yield text;
      if (batch.length < EXPORT_BATCH) return;
    }
  }

  /** Usernames of the accounts `batch` concerns, for {@link row}. */
  async usernamesOf(batch: StoredEvent[]): Promise<Map<string, string>> {
    const ids = [...new Set(batch.map((e) => e.userId).filter((id): id is string => !!id))];
    return this.accounts ? this.accounts.usernames(ids) : new Map();
  }

  /** One event as exported; `user` is the account's username (its id once it is deleted). */
  row(event: StoredEvent, usernames: Map<string, string>): ExportRow {
    return {
      id: Number(event.id),
      tag: event.tag,
      occurred_at: new Date(event.occurredAt).toISOString(),
      actor_name: event.actorName,
      actor_kind: event.actorKind,
      user: event.userId ? (usernames.get(event.userId) ?? event.userId) : null,
      project_name: event.projectName,
      ip: event.ip,
      user_agent: event.userAgent,
      request_id: event.requestId,
      additional: event.additional ?? {},
      description: this.renderer.render(event, 'admin').summary,
    };
  }
}
