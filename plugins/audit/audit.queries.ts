import type { EntityManager } from 'typeorm';
import type { AuditRow } from './audit.writer.js';

/**
 * The audit plugin's hand-written SQL (STYLE.md: hot queries live in one `*.queries.ts`).
 * Each list query is keyset-paginated on `id` and names the index it uses.
 */

/** Held to COMMIT by every audit insert: ids are then assigned in commit order (issue 7's chain). */
export const AUDIT_WRITE_LOCK = 7_231_555_006;

const COLUMNS = [
  'occurred_at',
  'tag',
  'actor_id',
  'actor_name',
  'actor_kind',
  'actor_token_id',
  'actor_token_name',
  'actor_two_factor',
  'user_id',
  'project_id',
  'project_name',
  'ip',
  'user_agent',
  'request_id',
  'additional',
  'plugin',
] as const;

/** Inserts rows in order, inside `manager`'s transaction, under the audit write lock. */
export async function insertEvents(manager: EntityManager, rows: AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  await manager.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_WRITE_LOCK]);
  const params: unknown[] = [];
  const values = rows.map((row) => {
    const cells = [
      row.occurredAt,
      row.tag,
      row.actorId,
      row.actorName,
      row.actorKind,
      row.actorTokenId,
      row.actorTokenName,
      row.actorTwoFactor,
      row.userId,
      row.projectId,
      row.projectName,
      row.ip,
      row.userAgent,
      row.requestId,
      JSON.stringify(row.additional),
      row.plugin,
    ];
    const placeholders = cells.map((cell) => {
      params.push(cell);
      return `$${params.length}`;
    });
    placeholders[11] += '::inet';
    placeholders[14] += '::jsonb';
    return `(${placeholders.join(', ')})`;
  });
  await manager.query(
    `INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES ${values.join(', ')}`,
    params,
  );
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
  /** An IP or CIDR: `ip <<= cidr` (GiST IDX_audit_events_ip). */
  ip?: string;
  since?: Date;
  /** Exclusive. */
  until?: Date;
  /** `key=value`: containment (GIN IDX_audit_events_additional); otherwise text search. */
  q?: string;
}

export interface Page {
  /** Newer than this id (the "newer" link), ascending then reversed. */
  after?: string;
  /** Older than this id (the "older" link). */
  before?: string;
  size: number;
}

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
  if (filter.ip) clauses.push(`ip <<= ${add(filter.ip)}::inet`);
  if (filter.since) clauses.push(`occurred_at >= ${add(filter.since)}`);
  if (filter.until) clauses.push(`occurred_at < ${add(filter.until)}`);
  if (filter.q) {
    const pair = /^([A-Za-z0-9_]+)=(.*)$/.exec(filter.q);
    if (pair) clauses.push(`additional @> ${add(JSON.stringify({ [pair[1]]: pair[2] }))}::jsonb`);
    else clauses.push(`additional::text ILIKE ${add(`%${filter.q.replace(/[\\%_]/g, '\\$&')}%`)}`);
  }
  return clauses;
}

const SELECT = `SELECT id::text AS "id", occurred_at AS "occurredAt", tag, actor_id AS "actorId",
  actor_name AS "actorName", actor_kind AS "actorKind", actor_token_id AS "actorTokenId",
  actor_token_name AS "actorTokenName", actor_two_factor AS "actorTwoFactor", user_id AS "userId",
  project_id AS "projectId", project_name AS "projectName", host(ip) AS "ip",
  user_agent AS "userAgent", request_id AS "requestId", additional, plugin FROM audit_events`;

/** Above this many events a date range is walked by id (see findEvents). */
const NARROW_RANGE = 25_000;

/** Whether the filter's date range holds few events: counted on IDX_audit_events_occurred_at. */
async function narrowDateRange(manager: EntityManager, filter: EventFilter): Promise<boolean> {
  if (!filter.since && !filter.until) return false;
  const params: unknown[] = [];
  const clauses = where({ since: filter.since, until: filter.until }, params);
  const [{ n }] = await manager.query(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM audit_events WHERE ${clauses.join(' AND ')}
      LIMIT ${NARROW_RANGE + 1}) range`,
    params,
  );
  return n <= NARROW_RANGE;
}

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
  const clauses = where(filter, params);
  const ascending = page.after !== undefined && page.before === undefined;
  if (page.before !== undefined) {
    params.push(page.before);
    clauses.push(`id < $${params.length}`);
  } else if (page.after !== undefined) {
    params.push(page.after);
    clauses.push(`id > $${params.length}`);
  }
  params.push(page.size + 1);
  const direction = ascending ? 'ASC' : 'DESC';
  const whereSql = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  // `audit_events.id`, not `id`: a bare name in ORDER BY means the output column, here the
  // text `id::text AS "id"`, which sorted "9" after "10" and defeated the (…, id) indexes.
  let sql = `${SELECT} ${whereSql} ORDER BY audit_events.id ${direction} LIMIT $${params.length}`;
  if (await narrowDateRange(manager, filter)) {
    // The planner takes ids and times for independent and walks the primary key from the
    // newest event, through every event after the range (2.4 s for a week six months back in
    // 1,000,000). OFFSET 0 fences the range off: IDX_audit_events_occurred_at finds it, then
    // the page is sorted out of it.
    sql = `SELECT * FROM (${SELECT} ${whereSql} OFFSET 0) page
      ORDER BY "id"::bigint ${direction} LIMIT $${params.length}`;
  }
  const rows: StoredEvent[] = await manager.query(sql, params);
  const more = rows.length > page.size;
  const events = rows.slice(0, page.size);
  if (ascending) events.reverse();
  return {
    events,
    older: ascending ? true : more,
    newer: ascending ? more : page.before !== undefined,
  };
}

const midnight = (date: Date | undefined) =>
  date === undefined || date.getTime() % 86_400_000 === 0;

/**
 * Events per UTC day of the filtered set, at most `days` bars (the admin chart). The whole
 * log, some tags or whole days read audit_daily_counts (kept by triggers, a row per day and
 * tag): the last `days` days that have any. Narrower filters count their events in the
 * `days` days up to the newest one they match, through the filter's own index.
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
    rows = await manager.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, sum(events)::int AS count
         FROM audit_daily_counts WHERE ${clauses.join(' AND ')}
        GROUP BY day ORDER BY day DESC LIMIT ${add(days)}`,
      params,
    );
  } else {
    const clauses = where(filter, params);
    const matching = clauses.join(' AND ');
    rows = await manager.query(
      `SELECT to_char(date_trunc('day', occurred_at, 'UTC'), 'YYYY-MM-DD') AS day,
              count(*)::int AS count
         FROM audit_events
        WHERE ${matching} AND occurred_at >= (
          SELECT date_trunc('day', occurred_at, 'UTC') - make_interval(days => ${add(days - 1)})
            FROM audit_events WHERE ${matching} ORDER BY id DESC LIMIT 1)
        GROUP BY 1 ORDER BY 1 DESC`,
      params,
    );
  }
  return rows.reverse();
}
