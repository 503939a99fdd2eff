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
  // `audit_events.id`, not `id`: a bare name in ORDER BY means the output column, here the
  // text `id::text AS "id"`, which sorted "9" after "10" and defeated the (…, id) indexes.
  const sql = `${SELECT} ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''}
    ORDER BY audit_events.id ${ascending ? 'ASC' : 'DESC'} LIMIT $${params.length}`;
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

/** Events per day of the filtered set, the last `days` days that have any (the admin chart). */
export async function eventsPerDay(
  manager: EntityManager,
  filter: EventFilter,
  days: number,
): Promise<Array<{ day: string; count: number }>> {
  const params: unknown[] = [];
  const clauses = where(filter, params);
  params.push(days);
  const rows: Array<{ day: string; count: number }> = await manager.query(
    `SELECT to_char(date_trunc('day', occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day,
            count(*)::int AS count
       FROM audit_events ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''}
      GROUP BY 1 ORDER BY 1 DESC LIMIT $${params.length}`,
    params,
  );
  return rows.reverse();
}
