import type { EntityManager } from 'typeorm';
import type { AuditRow } from './audit.writer.js';
import { canonicalTail, isoMicros } from './chain/canonical.js';

/**
 * The audit plugin's hand-written SQL (STYLE.md: hot queries live in one `*.queries.ts`).
 * Each list query is keyset-paginated on `id` and names the index it uses.
 */

/** Held to COMMIT by every audit insert: ids are then assigned in commit order, and chained. */
export const AUDIT_WRITE_LOCK = 7_231_555_006;

/**
 * Waits until everything committed so far on this connection is on disk (and, with synchronous
 * replication, on the standbys the server's `synchronous_commit` names): a transaction of its
 * own that writes one WAL record and commits synchronously flushes the WAL up to its end, which
 * lies past every earlier commit. Run after an audited COMMIT that waited for the write lock
 * (see {@link insertEvents}): the lock is free by then, so concurrent writers share their
 * flushes as unchained commits do.
 */
export async function awaitDurable(manager: EntityManager): Promise<void> {
  await manager.query(`SELECT pg_logical_emit_message(true, 'larder.audit', '')`);
}

/**
 * Inserts rows in order, inside `manager`'s transaction, each chained to the one before, in
 * one call of `audit_chain_append` (migration 1796400000000): under the audit write lock,
 * held to COMMIT, it reads the head, draws each id (the lock makes ids follow commit order),
 * hashes and inserts. The daily counts, the streaming outbox and the admin log's search copy
 * follow a moment later, off the request path (audit.search.ts). Node sends each row's
 * canonical encoding after `occurred_at` (`canonicalTail`).
 *
 * `occurred_at` never decreases along `id`: an event stamped earlier than the head (another
 * node's clock, a transaction that committed late) takes the head's time. Date ranges are
 * then id ranges ({@link where}), which every view walks on the primary key.
 *
 * Returns the new ids, in order, and whether the transaction now commits asynchronously: when
 * another writer held the lock, COMMIT need not hold it through the WAL flush (the function
 * set `synchronous_commit = off` for this transaction), so queued writers do not wait for each
 * other's flushes. The caller must then call {@link awaitDurable} after COMMIT, before it
 * answers anyone (docs/audit.md). A writer that found the lock free commits synchronously.
 */
export async function insertEvents(
  manager: EntityManager,
  rows: AuditRow[],
): Promise<{ ids: string[]; asynchronous: boolean }> {
  if (rows.length === 0) return { ids: [], asynchronous: false };
  const { sql, params } = appendStatement(rows);
  const [result]: Array<{ ids: string[]; contended: boolean }> = await manager.query(sql, params);
  return { ids: result.ids, asynchronous: result.contended };
}

/**
 * The `audit_chain_append` call (`audit_chain_append_one` for one event) that inserts `rows`
 * ({@link insertEvents}): run now, or sent with the transaction's COMMIT (`runAtCommit`,
 * audit.writer.ts `flush`). Its row: `ids`, the new ids in order, and `contended`, whether
 * the transaction now commits asynchronously.
 */
export function appendStatement(rows: AuditRow[]): { sql: string; params: [number, string] } {
  const events = rows.map((row) => {
    // What jsonb gives back is what is hashed: the JSON round trip drops `undefined` and
    // turns dates to text.
    const additional: unknown = JSON.parse(JSON.stringify(row.additional));
    const ipHash = row.ipHash ? row.ipHash.toString('hex') : null;
    return {
      occurred_at: isoMicros(row.occurredAt),
      tag: row.tag,
      actor_id: row.actorId,
      actor_name: row.actorName,
      actor_kind: row.actorKind,
      actor_token_id: row.actorTokenId,
      actor_token_name: row.actorTokenName,
      actor_two_factor: row.actorTwoFactor,
      user_id: row.userId,
      project_id: row.projectId,
      project_name: row.projectName,
      ip: row.ip,
      ip_hash: ipHash,
      user_agent: row.userAgent,
      request_id: row.requestId,
      additional,
      plugin: row.plugin,
      tail: canonicalTail({ ...row, additional }, ipHash),
    };
  });
  // One event (nearly every write): the function without the loop (AuditChainAppendOne).
  if (events.length === 1) {
    return {
      sql: `SELECT ids, contended FROM audit_chain_append_one($1::bigint, $2::jsonb)`,
      params: [AUDIT_WRITE_LOCK, JSON.stringify(events[0])],
    };
  }
  return {
    sql: `SELECT ids, contended FROM audit_chain_append($1::bigint, $2::jsonb)`,
    params: [AUDIT_WRITE_LOCK, JSON.stringify(events)],
  };
}

/** A stored event as the pages read it. */
export interface StoredEvent {
  id: string;
  occurredAt: Date;
  tag: string;
  actorId: string | null;
  actorName: string | null;
  actorKind: string;
  actorTokenId: string | null;
  actorTokenName: string | null;
  actorTwoFactor: string | null;
  userId: string | null;
  projectId: string | null;
  projectName: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  additional: Record<string, unknown>;
  plugin: string;
}

/** Filters of the three views; each is optional. */
export interface EventFilter {
  /** Account history: the account (IDX_audit_events_user_id_id). */
  userId?: string;
  /** Project history: the project (IDX_audit_events_project_id_id). */
  projectId?: string;
  /** Tags a view never lists (those not shown in it). */
  hiddenTags?: string[];
  tags?: string[];
  actorName?: string;
  projectName?: string;
  /** An IP or CIDR: `ip <<= cidr`, a range of IDX_audit_events_ip_id. */
  ip?: string;
  /**
   * An exact IP's keyed hash (`ipKey`): matches rows whose IP the retention replaced too
   * (IDX_audit_events_ip_hash). Takes the place of `ip` when given.
   */
  ipHash?: Buffer;
  since?: Date;
  /** Exclusive. */
  until?: Date;
  /** The date range as ids (set by `idRange` from `since` and `until`; inclusive). */
  fromId?: string;
  /** Exclusive. */
  belowId?: string;
  /** `key=value`: containment (GIN IDX_audit_event_search_additional); otherwise text search. */
  q?: string;
  /** Any of these (each ANDed inside): the API's "your account's or your projects' events". */
  anyOf?: EventFilter[];
}

export interface Page {
  /** Newer than this id (the "newer" link), ascending then reversed. */
  after?: string;
  /** Older than this id (the "older" link). */
  before?: string;
  size: number;
}

/** The id of the first event stamped at or after the time `sql` gives (NULL if none is). */
const firstIdAt = (sql: string) =>
  `(SELECT f.id::text FROM audit_events f WHERE f.occurred_at >= ${sql}
     ORDER BY f.occurred_at, f.id LIMIT 1)`;

/**
 * The filter with its date range as an id range (`fromId`, `belowId`). `occurred_at` never
 * decreases along `id` (insertEvents), so the events at or after a time are those from the
 * first one stamped at or after it: two probes of IDX_audit_events_occurred_at. Resolved in
 * a query of its own so that the list and chart queries are planned with the bounds as
 * constants: the planner then sees how few rows the range holds, and walks the primary key
 * or a filter's (…, id) index within it instead of scanning by time. Resolve it once for
 * queries repeated with one filter (an export's batches).
 */
export async function idRange(manager: EntityManager, filter: EventFilter): Promise<EventFilter> {
  if (!filter.since && !filter.until) return filter;
  const params: unknown[] = [];
  const bound = (date: Date | undefined) => {
    if (!date) return 'NULL';
    params.push(date);
    return firstIdAt(`$${params.length}::timestamptz`);
  };
  const [row]: Array<{ from: string | null; below: string | null }> = await manager.query(
    `SELECT ${bound(filter.since)} AS "from", ${bound(filter.until)} AS "below"`,
    params,
  );
  // Without `since` and `until`, so that resolving it again (an export's batches) reads nothing.
  const resolved = { ...filter, since: undefined, until: undefined };
  // Nothing stamped at or after `since`: an empty range.
  if (filter.since) resolved.fromId = row.from ?? EMPTY_FROM;
  if (filter.until && row.below !== null) resolved.belowId = row.below;
  return resolved;
}

/** A `fromId` above every id: no event matches. */
const EMPTY_FROM = '9223372036854775807';

/** `q` as `key=value`: containment, not free text. */
const KEY_VALUE = /^([A-Za-z0-9_]+)=(.*)$/;

/** A free-text filter expected to match at most this many is read from its index (findEvents). */
const FEW_MATCHES = 5_000;

/** …and read so only while it really matches at most this many (the estimate can be off). */
const MAX_MATCHES = 20_000;

function where(filter: EventFilter, params: unknown[]): string[] {
  const add = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const clauses: string[] = [];
  if (filter.userId !== undefined) clauses.push(`user_id = ${add(filter.userId)}`);
  if (filter.projectId !== undefined) clauses.push(`project_id = ${add(filter.projectId)}`);
  if (filter.hiddenTags?.length) clauses.push(`tag <> ALL(${add(filter.hiddenTags)}::text[])`);
  if (filter.tags?.length) clauses.push(`tag = ANY(${add(filter.tags)}::text[])`);
  if (filter.actorName) clauses.push(`actor_name = ${add(filter.actorName)}`);
  if (filter.projectName) clauses.push(`project_name = ${add(filter.projectName)}`);
  if (filter.ipHash) clauses.push(`ip_hash = ${add(filter.ipHash)}`);
  else if (filter.ip) clauses.push(`ip <<= ${add(filter.ip)}::inet`);
  // The date range, as the id range `idRange` resolved it to.
  if (filter.fromId !== undefined) clauses.push(`id >= ${add(filter.fromId)}`);
  if (filter.belowId !== undefined) clauses.push(`id < ${add(filter.belowId)}`);
  if (filter.q) {
    // Free text: trigram GIN IDX_audit_event_search_additional_trgm (AuditSearch1796700000000),
    // built on exactly `additional::text`; another expression here would scan again.
    const pair = KEY_VALUE.exec(filter.q);
    if (pair) clauses.push(`additional @> ${add(JSON.stringify({ [pair[1]]: pair[2] }))}::jsonb`);
    else clauses.push(`additional::text ILIKE ${add(`%${filter.q.replace(/[\\%_]/g, '\\$&')}%`)}`);
  }
  if (filter.anyOf) {
    const alternatives = filter.anyOf.map(
      (sub) => `(${where(sub, params).join(' AND ') || 'TRUE'})`,
    );
    clauses.push(alternatives.length ? `(${alternatives.join(' OR ')})` : 'FALSE');
  }
  return clauses;
}

/**
 * Where a filter reads: for a search ({@link searches}), the search copy's watermark
 * (AuditSearch1796700000000) as read just before; `null` for `audit_events` alone.
 */
type Source = string | null;

/**
 * Whether `filter` is one of the admin log's searches, read from the indexes of
 * `audit_event_search` (tag, actor, project name, IP, `additional`), rather than one of the
 * histories', read from `audit_events` by account or project (whose indexes are there).
 */
function searches(filter: EventFilter): boolean {
  if (filter.userId !== undefined || filter.projectId !== undefined || filter.anyOf) return false;
  return Boolean(
    filter.tags?.length ||
    filter.actorName ||
    filter.projectName ||
    filter.ip ||
    filter.ipHash ||
    filter.q !== undefined,
  );
}

/** The search copy's watermark: the newest event it holds ('0' for none). */
async function watermark(manager: EntityManager): Promise<string> {
  const [row]: Array<{ mark: string }> = await manager.query(
    'SELECT watermark::text AS mark FROM audit_search_state',
  );
  if (!/^\d+$/.test(row?.mark ?? '')) throw new Error('audit_search_state holds no watermark');
  return row.mark;
}

/** The {@link Source} of `filter`: its watermark when it searches. */
async function sourceOf(manager: EntityManager, filter: EventFilter): Promise<Source> {
  return searches(filter) ? watermark(manager) : null;
}

/**
 * Past the search copy's watermark, as of this statement's snapshot; `mark`, the watermark
 * read a moment before (it only grows), is a literal bound for the planner: as a sub-select
 * alone it guessed a third of the log above it, and scanned it.
 */
const pastWatermark = (mark: string) =>
  `id > ${mark} AND id > (SELECT watermark FROM audit_search_state)`;

/**
 * `SELECT columns` of the events `clauses` match, with `rest` (ORDER BY, LIMIT) in each part:
 * for a search, from `audit_event_search` and from `audit_events` past its watermark, else
 * from `audit_events`. Exact whatever the copy's lag: the copy moves its watermark in the
 * transaction that copies, so in one snapshot it holds exactly the events up to it. The two
 * tables name the filtered columns alike, so `where`'s clauses serve both. Select `id` itself
 * (bigint) when ordering by it.
 */
function matchingSql(mark: Source, clauses: string[], columns: string, rest = ''): string {
  const all = (...more: string[]) => [...clauses, ...more].join(' AND ') || 'TRUE';
  if (mark === null) return `SELECT ${columns} FROM audit_events WHERE ${all()} ${rest}`;
  return `(SELECT ${columns} FROM audit_event_search WHERE ${all()} ${rest})
    UNION ALL
    (SELECT ${columns} FROM audit_events WHERE ${all(pastWatermark(mark))} ${rest})`;
}

/** The account that last acted under `name` (the admin log's `user=<username>`), or null. */
export async function actorIdNamed(manager: EntityManager, name: string): Promise<string | null> {
  const rows: Array<{ id: string }> = await manager.query(
    `SELECT actor_id AS id FROM (${matchingSql(
      await watermark(manager),
      ['actor_name = $1', 'actor_id IS NOT NULL'],
      'id, actor_id',
      'ORDER BY id DESC LIMIT 1',
    )}) m ORDER BY m.id DESC LIMIT 1`,
    [name],
  );
  return rows[0]?.id ?? null;
}

// `id` is selected as text (bigint exceeds JS numbers), so ORDER BY must name
// `audit_events.id`: a bare `id` sorts by the text alias ("10" before "9").
const SELECT = `SELECT id::text AS "id", occurred_at AS "occurredAt", tag, actor_id AS "actorId",
  actor_name AS "actorName", actor_kind AS "actorKind", actor_token_id AS "actorTokenId",
  actor_token_name AS "actorTokenName", actor_two_factor AS "actorTwoFactor", user_id AS "userId",
  project_id AS "projectId", project_name AS "projectName", host(ip) AS "ip",
  user_agent AS "userAgent", request_id AS "requestId", additional, plugin FROM audit_events`;

/**
 * One page of events, newest first, plus whether there are older and newer ones. Keyset on
 * `id` (never OFFSET): each view's index ends in `id`, so a page costs the same at any depth.
 */
export async function findEvents(
  manager: EntityManager,
  filter: EventFilter,
  page: Page,
): Promise<{ events: StoredEvent[]; older: boolean; newer: boolean }> {
  const params: unknown[] = [];
  const clauses = where(await idRange(manager, filter), params);
  const source = await sourceOf(manager, filter);
  const ascending = page.after !== undefined && page.before === undefined;
  const direction = ascending ? 'ASC' : 'DESC';
  // Free text costs ~3 µs a row (`additional::text`, then ILIKE), which the planner does not
  // know: it walks the primary key from the newest event, testing each row until a page
  // matches (57 ms for a phrase in 1 event of 1,000 among 1,000,000). When it expects few
  // matches, they are read from the trigram index (shared with the chart, `sparseMatches`)
  // and the page picked out of them; a common word matches often enough that the walk finds
  // a page soon.
  const matches = await sparseMatches(manager, filter, source, clauses, params);
  if (matches) {
    const newestFirst = matches.map((m) => BigInt(m.id));
    const chosen =
      page.before !== undefined
        ? newestFirst.filter((id) => id < BigInt(page.before!))
        : page.after !== undefined
          ? newestFirst.filter((id) => id > BigInt(page.after!)).reverse()
          : newestFirst;
    const rows: StoredEvent[] = await manager.query(
      `${SELECT} WHERE id = ANY($1::bigint[]) ORDER BY audit_events.id ${direction}`,
      [chosen.slice(0, page.size + 1).map(String)],
    );
    return pageOf(rows, page, ascending);
  }
  if (page.before !== undefined) {
    params.push(page.before);
    clauses.push(`id < $${params.length}`);
  } else if (page.after !== undefined) {
    params.push(page.after);
    clauses.push(`id > $${params.length}`);
  }
  params.push(page.size + 1);
  const limit = `LIMIT $${params.length}`;
  // `audit_events.id`, not `id`: a bare name in ORDER BY means the output column, here the
  // text `id::text AS "id"`, which sorted "9" after "10" and defeated the (…, id) indexes.
  const rows: StoredEvent[] = source
    ? await manager.query(
        `${SELECT} WHERE id = ANY(ARRAY(
           SELECT id FROM (${matchingSql(source, clauses, 'id', `ORDER BY id ${direction} ${limit}`)}) m
            ORDER BY id ${direction} ${limit}))
          ORDER BY audit_events.id ${direction}`,
        params,
      )
    : await manager.query(
        `${SELECT} ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''}
          ORDER BY audit_events.id ${direction} ${limit}`,
        params,
      );
  return pageOf(rows, page, ascending);
}

/** Reads of sparse free text in flight: the page and the chart of one view share one. */
const pendingMatches = new Map<string, Promise<Array<{ id: string; day: string }> | null>>();

/**
 * For free text the planner expects to match few events (at most FEW_MATCHES): every event
 * `where` matches, newest first, with its UTC day, read from the filters' indexes (the trigram
 * index). `null` for any other filter, or when there are more than MAX_MATCHES after all (the
 * estimate was wrong: the read stops there); the caller then takes the usual way. A view's
 * list and chart ask at the same time with the same filter: they share the estimate and the
 * read.
 */
function sparseMatches(
  manager: EntityManager,
  filter: EventFilter,
  source: Source,
  clauses: string[],
  params: unknown[],
): Promise<Array<{ id: string; day: string }> | null> {
  if (filter.q === undefined || KEY_VALUE.test(filter.q)) return Promise.resolve(null);
  const key = JSON.stringify([source, clauses, params]);
  let found = pendingMatches.get(key);
  if (!found) {
    found = (async () => {
      const table = source === null ? 'audit_events' : 'audit_event_search';
      if ((await estimatedRows(manager, table, clauses, params)) > FEW_MATCHES) return null;
      return fromIndexes(manager, async (tx) => {
        // No ORDER BY: the LIMIT then stops the bitmap scan, where a sort would read every match.
        const limit = `LIMIT ${MAX_MATCHES + 1}`;
        const rows: Array<{ id: string; day: string }> = await tx.query(
          `SELECT id::text AS id, to_char(date_trunc('day', occurred_at, 'UTC'), 'YYYY-MM-DD') AS day
             FROM (${matchingSql(source, clauses, 'id, occurred_at', limit)}) m ${limit}`,
          params,
        );
        if (rows.length > MAX_MATCHES) return null;
        return rows
          .map((row) => ({ ...row, key: BigInt(row.id) }))
          .sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0))
          .map(({ id, day }) => ({ id, day }));
      });
    })();
    pendingMatches.set(key, found);
    const forget = () => pendingMatches.delete(key);
    found.then(forget, forget);
  }
  return found;
}

/**
 * The planner's estimate of the rows `clauses` match in `table` (one planning, no execution).
 * For a search, the copy's estimate: the events past its watermark are a moment's worth.
 */
async function estimatedRows(
  manager: EntityManager,
  table: string,
  clauses: string[],
  params: unknown[],
): Promise<number> {
  const [row]: Array<{ 'QUERY PLAN': unknown }> = await manager.query(
    `EXPLAIN (FORMAT JSON) SELECT 1 FROM ${table} WHERE ${clauses.join(' AND ') || 'TRUE'}`,
    params,
  );
  const plan = row['QUERY PLAN'];
  const parsed = (typeof plan === 'string' ? JSON.parse(plan) : plan) as Array<{
    Plan: { 'Plan Rows': number };
  }>;
  return parsed[0].Plan['Plan Rows'];
}

/**
 * Runs `work` with plain index scans and sequential scans off, so that the planner reads the
 * matches from the filters' own indexes (bitmaps, ANDed with the id range's) instead of walking
 * the primary key and testing each row: for filters it cannot price per row (free text,
 * `key=value` over a month of events).
 */
function fromIndexes<T>(manager: EntityManager, work: (tx: EntityManager) => Promise<T>) {
  return manager.transaction(async (tx) => {
    // And no JIT: with sequential scans off, the one-row state table's scan (the watermark)
    // is priced at 10^10, over the JIT threshold, and compiling cost 100–230 ms a query.
    await tx.query(`SELECT set_config('enable_indexscan', 'off', true),
                           set_config('enable_seqscan', 'off', true),
                           set_config('jit', 'off', true)`);
    return work(tx);
  });
}

function pageOf(
  rows: StoredEvent[],
  page: Page,
  ascending: boolean,
): { events: StoredEvent[]; older: boolean; newer: boolean } {
  const more = rows.length > page.size;
  const events = rows.slice(0, page.size);
  if (ascending) events.reverse();
  return {
    events,
    older: ascending ? true : more,
    newer: ascending ? more : page.before !== undefined,
  };
}

/** The events with these ids (the streaming worker's deliveries). */
export async function eventsByIds(manager: EntityManager, ids: string[]): Promise<StoredEvent[]> {
  return manager.query(`${SELECT} WHERE id = ANY($1::bigint[]) ORDER BY audit_events.id`, [ids]);
}

/**
 * Up to `size` events with ids above `after`, oldest first: the batches of an export. Keyset on
 * the primary key, so each batch is an index range scan whatever the depth, and no connection
 * is held between batches (the embedded database has one).
 */
export async function eventsAfter(
  manager: EntityManager,
  filter: EventFilter,
  after: string,
  size: number,
): Promise<StoredEvent[]> {
  const params: unknown[] = [];
  const clauses = where(await idRange(manager, filter), params);
  params.push(after);
  clauses.push(`id > $${params.length}`);
  params.push(size);
  const limit = `LIMIT $${params.length}`;
  const source = await sourceOf(manager, filter);
  if (source) {
    return manager.query(
      `${SELECT} WHERE id = ANY(ARRAY(
         SELECT id FROM (${matchingSql(source, clauses, 'id', `ORDER BY id ${limit}`)}) m
          ORDER BY id ${limit}))
        ORDER BY audit_events.id`,
      params,
    );
  }
  return manager.query(
    `${SELECT} WHERE ${clauses.join(' AND ')} ORDER BY audit_events.id ASC ${limit}`,
    params,
  );
}

const midnight = (date: Date | undefined) =>
  date === undefined || date.getTime() % 86_400_000 === 0;

/**
 * Events per UTC day of the filtered set, at most `days` bars (the admin chart). The whole
 * log, some tags or whole days read audit_daily_counts (a row per day and tag, kept by the
 * search copy's job, audit.search.ts): the last `days` days that have any. Narrower filters
 * count their events in the `days` days up to the newest one they match, through the
 * filter's own index.
 */
export async function eventsPerDay(
  manager: EntityManager,
  filter: EventFilter,
  days: number,
): Promise<Array<{ day: string; count: number }>> {
  const params: unknown[] = [];
  const add = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const broad =
    !filter.userId &&
    !filter.projectId &&
    !filter.hiddenTags?.length &&
    !filter.actorName &&
    !filter.projectName &&
    !filter.ip &&
    !filter.q &&
    midnight(filter.since) &&
    midnight(filter.until);
  let rows: Array<{ day: string; count: number }>;
  if (broad) {
    const clauses = ['events > 0'];
    if (filter.tags?.length) clauses.push(`tag = ANY(${add(filter.tags)}::text[])`);
    if (filter.since) clauses.push(`day >= ${add(filter.since.toISOString().slice(0, 10))}::date`);
    if (filter.until) clauses.push(`day < ${add(filter.until.toISOString().slice(0, 10))}::date`);
    // The counts hold the events up to the search copy's watermark (audit.search.ts); the
    // few past it are counted here, in the same statement (one snapshot).
    const mark = await watermark(manager);
    rows = await manager.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, sum(events)::int AS count
         FROM (SELECT day, tag, events FROM audit_daily_counts
               UNION ALL
               SELECT (occurred_at AT TIME ZONE 'UTC')::date, tag, count(*)
                 FROM audit_events WHERE ${pastWatermark(mark)} GROUP BY 1, 2) c
        WHERE ${clauses.join(' AND ')}
        GROUP BY day ORDER BY day DESC LIMIT ${add(days)}`,
      params,
    );
  } else {
    // The window, like a date range, is an id range (see `idRange`), and so is each of its
    // days: the first query finds the first id of each of the `days` days up to the newest
    // match; the second counts the matches per day by id alone, planned with those bounds as
    // constants, so a filter with an index on (…, id) counts from the index only.
    const clauses = where(await idRange(manager, filter), params);
    const source = await sourceOf(manager, filter);
    const matches = await sparseMatches(manager, filter, source, clauses, params);
    if (matches?.length === 0) return [];
    if (matches) {
      // Sparse free text: the matches findEvents reads (one read for both), counted here.
      const first = new Date(Date.parse(matches[0].day) - (days - 1) * 86_400_000)
        .toISOString()
        .slice(0, 10);
      const counts = new Map<string, number>();
      for (const { day } of matches) {
        if (day < first) break; // newest first
        counts.set(day, (counts.get(day) ?? 0) + 1);
      }
      return [...counts].map(([day, count]) => ({ day, count })).reverse();
    }
    const last = add(days - 1);
    const bounds: Array<{ day: string; id: string }> = await manager.query(
      `WITH newest AS (
         SELECT date_trunc('day', occurred_at, 'UTC') AS day
           FROM (${matchingSql(source, clauses, 'id, occurred_at', 'ORDER BY id DESC LIMIT 1')}) m
          ORDER BY id DESC LIMIT 1),
       days AS (
         SELECT newest.day - (${last}::int - g) * interval '24 hours' AS day
           FROM newest, generate_series(0, ${last}::int) g)
       SELECT to_char(day, 'YYYY-MM-DD') AS day, ${firstIdAt('days.day')} AS id
         FROM days ORDER BY days.day`,
      params,
    );
    params.pop();
    if (bounds.length === 0) return [];
    const edges = add(bounds.map((b) => b.id));
    const inWindow = [...clauses, `id >= ${add(bounds[0].id)}`];
    const count = (on: EntityManager): Promise<Array<{ bucket: number; count: number }>> =>
      on.query(
        `SELECT width_bucket(id, ${edges}::bigint[]) AS bucket, count(*)::int AS count
           FROM (${matchingSql(source, inWindow, 'id')}) m
          GROUP BY 1`,
        params,
      );
    // Text or `key=value`, tested row by row over the window: 65 ms for a month of events at
    // 1,000,000; their GIN index ANDed with the window's ids, half that.
    const counts =
      filter.q !== undefined ? await fromIndexes(manager, count) : await count(manager);
    rows = counts
      .sort((a, b) => b.bucket - a.bucket)
      .map(({ bucket, count }) => ({ day: bounds[bucket - 1].day, count }));
  }
  return rows.reverse();
}

/** Which of the projects, releases and accounts a page of events names still exist. */
export interface LiveNames {
  /** Project id → its current name. */
  projects: Map<string, string>;
  /** `${projectId} ${version}` of releases that still exist. */
  releases: Set<string>;
  /** Account id → its username. */
  users: Map<string, string>;
}

/**
 * Looks up, for one page of events, what still exists: so the renderer links to a project,
 * release or account only while there is one (read-only; three primary-key/index lookups).
 */
export async function liveNames(manager: EntityManager, events: StoredEvent[]): Promise<LiveNames> {
  const projectIds = [...new Set(events.flatMap((e) => (e.projectId ? [e.projectId] : [])))];
  const userIds = [...new Set(events.flatMap((e) => (e.userId ? [e.userId] : [])))];
  const versions = [
    ...new Set(
      events.flatMap((e) =>
        e.projectId && typeof e.additional?.version === 'string' ? [e.additional.version] : [],
      ),
    ),
  ];
  const [projects, users, releases] = await Promise.all([
    projectIds.length
      ? manager.query('SELECT id::text AS id, name FROM projects WHERE id = ANY($1::uuid[])', [
          projectIds,
        ])
      : [],
    userIds.length
      ? manager.query('SELECT id::text AS id, username FROM users WHERE id = ANY($1::uuid[])', [
          userIds,
        ])
      : [],
    versions.length
      ? manager.query(
          `SELECT project_id::text AS "projectId", version FROM releases
            WHERE project_id = ANY($1::uuid[]) AND version = ANY($2::text[])`,
          [projectIds, versions],
        )
      : [],
  ]);
  return {
    projects: new Map((projects as Array<{ id: string; name: string }>).map((p) => [p.id, p.name])),
    users: new Map(
      (users as Array<{ id: string; username: string }>).map((u) => [u.id, u.username]),
    ),
    releases: new Set(
      (releases as Array<{ projectId: string; version: string }>).map(
        (r) => `${r.projectId} ${r.version}`,
      ),
    ),
  };
}
