import { BadRequestException } from '@nestjs/common';
import { isIP } from 'node:net';
import type { EntityManager } from 'typeorm';
import { actorIdNamed, type EventFilter } from './audit.queries.js';
import { ipKey } from './chain/canonical.js';

/**
 * The admin filters (query parameters `tag`, `actor`, `user`, `project`, `ip`, `since`,
 * `until`, `q`) as the Audit log page, the export, the API and `larder audit export` all read
 * them: one parser, so the four agree on what a filter means and on what is refused.
 */
export interface AdminFilterInput {
  tag?: string;
  actor?: string;
  user?: string;
  project?: string;
  ip?: string;
  since?: string;
  until?: string;
  q?: string;
}

export const FILTER_KEYS = [
  'tag',
  'actor',
  'user',
  'project',
  'ip',
  'since',
  'until',
  'q',
] as const satisfies ReadonlyArray<keyof AdminFilterInput>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Matches nobody: an unknown account name filters to nothing rather than to everything. */
const NOBODY = '00000000-0000-0000-0000-000000000000';

/** A date or date-time; a bare day as `until` includes that whole day. */
export function filterDate(value: string | undefined, endOfDay = false): Date | undefined {
  if (!value) return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw new BadRequestException(`"${value}" is not a date`);
  if (endOfDay && /^\d{4}-\d{2}-\d{2}$/.test(value)) parsed.setUTCDate(parsed.getUTCDate() + 1);
  return parsed;
}

/** An IPv4/IPv6 address or CIDR, or a 400 naming it. */
export function checkIpFilter(ip: string): void {
  const [address, prefix, extra] = ip.split('/');
  const family = isIP(address);
  if (
    !family ||
    extra !== undefined ||
    (prefix !== undefined &&
      (!/^\d{1,3}$/.test(prefix) || Number(prefix) > (family === 4 ? 32 : 128)))
  ) {
    throw new BadRequestException(`"${ip}" is not an IP address or CIDR`);
  }
}

/** An account by id, or by the username it acted under (the log knows its own actors). */
async function accountId(manager: EntityManager, user: string): Promise<string> {
  if (UUID.test(user)) return user;
  return (await actorIdNamed(manager, user)) ?? NOBODY;
}

/**
 * The filter for `input`; throws a 400 naming the first bad value. `secret` keys the IP hash:
 * an exact IP also matches rows whose address the IP retention replaced by that hash.
 */
export async function adminFilter(
  manager: EntityManager,
  input: AdminFilterInput,
  secret: string,
): Promise<EventFilter> {
  if (input.ip) checkIpFilter(input.ip);
  const filter: EventFilter = {
    tags: input.tag ? [input.tag] : undefined,
    actorName: input.actor || undefined,
    projectName: input.project || undefined,
    ip: input.ip || undefined,
    ipHash: input.ip && !input.ip.includes('/') ? ipKey(secret, input.ip) : undefined,
    q: input.q || undefined,
    since: filterDate(input.since),
    until: filterDate(input.until, true),
  };
  if (input.user) filter.userId = await accountId(manager, input.user);
  return filter;
}

/** The filters given, without the empty ones: what an export records in its own event. */
export function givenFilters(input: AdminFilterInput): Record<string, string> {
  const given: Record<string, string> = {};
  for (const key of FILTER_KEYS) if (input[key]) given[key] = String(input[key]);
  return given;
}
