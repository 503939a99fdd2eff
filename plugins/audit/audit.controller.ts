import {
  BadRequestException,
  Controller,
  Get,
  Inject,
  Optional,
  Param,
  Query,
  Res,
  NotFoundException,
} from '@nestjs/common';
import type { Response } from 'express';
import { isIP } from 'node:net';
import { DataSource } from 'typeorm';
import {
  PROJECT_ROLE_RESOLVER,
  PluginContext,
  TabPage,
  requestContext,
  type ProjectRoleResolver,
} from '../../src/plugin-api/index.js';
import { AuditLogQueryDto, HistoryQueryDto } from './audit.dto.js';
import { eventsPerDay, findEvents, type EventFilter } from './audit.queries.js';
import { AuditRenderer, type Audience } from './audit.renderer.js';
import { barChart } from './chart.js';

export const PAGE_SIZE = 25;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function date(value: string | undefined, endOfDay = false): Date | undefined {
  if (!value) return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw new BadRequestException(`"${value}" is not a date`);
  // A bare day as `until` includes that whole day.
  if (endOfDay && /^\d{4}-\d{2}-\d{2}$/.test(value)) parsed.setUTCDate(parsed.getUTCDate() + 1);
  return parsed;
}

/** Query string for a link: the current filters plus a cursor. */
function link(base: string, query: object, cursor: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value && key !== 'before' && key !== 'after') params.set(key, String(value));
  }
  for (const [key, value] of Object.entries(cursor)) params.set(key, value);
  return `${base}?${params.toString()}`;
}

/** The three views of the log (DESIGN.md §8): account and project Security history, admin Audit log. */
@Controller()
export class AuditController {
  constructor(
    private readonly plugin: PluginContext,
    private readonly dataSource: DataSource,
    private readonly renderer: AuditRenderer,
    @Optional() @Inject(PROJECT_ROLE_RESOLVER) private readonly projects?: ProjectRoleResolver,
  ) {}

  @Get('manage/account/history')
  @TabPage('account', 'security-history')
  async account(@Query() query: HistoryQueryDto, @Res() res: Response): Promise<void> {
    const actor = requestContext().actor;
    if (actor.kind !== 'user' && actor.kind !== 'token') throw new NotFoundException();
    await this.history(res, 'account', { userId: actor.userId }, query, {
      title: 'Security history',
      base: '/manage/account/history/',
      tabs: { set: 'account', active: 'security-history' },
      intro:
        'Events appear here as security-related actions occur on your account. If you notice ' +
        'anything suspicious, change your password and tell an administrator.',
    });
  }

  @Get('manage/project/:project/history')
  @TabPage('project', 'security-history')
  async project(
    @Param('project') name: string,
    @Query() query: HistoryQueryDto,
    @Res() res: Response,
  ): Promise<void> {
    const actor = requestContext().actor;
    if (actor.kind !== 'user' && actor.kind !== 'token') throw new NotFoundException();
    // The tab's guard let an owner in; the resolver names the project's id.
    const found = await this.projects?.resolve(name, actor.userId);
    if (!found) throw new NotFoundException();
    await this.history(res, 'project', { projectId: found.project.id }, query, {
      title: `Security history · ${found.project.name}`,
      base: `/manage/project/${encodeURIComponent(name)}/history/`,
      tabs: { set: 'project', active: 'security-history', project: name },
      intro:
        'Each time you or your collaborators perform a security action on this project, it is ' +
        'recorded here.',
    });
  }

  @Get('admin/audit')
  @TabPage('admin', 'audit-log')
  async admin(@Query() query: AuditLogQueryDto, @Res() res: Response): Promise<void> {
    if (query.ip) {
      const [address, prefix] = query.ip.split('/');
      const family = isIP(address);
      if (!family || (prefix !== undefined && Number(prefix) > (family === 4 ? 32 : 128))) {
        throw new BadRequestException(`"${query.ip}" is not an IP address or CIDR`);
      }
    }
    const filter: EventFilter = {
      actorName: query.actor || undefined,
      projectName: query.project || undefined,
      ip: query.ip || undefined,
      q: query.q || undefined,
    };
    if (query.user) filter.userId = await this.userId(query.user);
    const chart = barChart(
      await eventsPerDay(this.dataSource.manager, this.withDates(filter, query), 30),
    );
    await this.history(res, 'admin', filter, query, {
      title: 'Audit log',
      base: '/admin/audit/',
      tabs: { set: 'admin', active: 'audit-log' },
      admin: true,
      chart,
    });
  }

  private withDates(filter: EventFilter, query: HistoryQueryDto): EventFilter {
    return {
      ...filter,
      tags: query.tag ? [query.tag] : undefined,
      since: date(query.since),
      until: date(query.until, true),
    };
  }

  /**
   * An account by id, or by the username it acted under (the log knows its own actors): the
   * latest account of that name. `audit_events.id`: a bare `id` would be the `actor_id` alias.
   */
  private async userId(user: string): Promise<string> {
    if (UUID.test(user)) return user;
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT actor_id AS id FROM audit_events
        WHERE actor_name = $1 AND actor_id IS NOT NULL
        ORDER BY audit_events.id DESC LIMIT 1`,
      [user],
    );
    // Nobody of that name: a filter that matches nothing.
    return rows[0]?.id ?? '00000000-0000-0000-0000-000000000000';
  }

  private async history(
    res: Response,
    audience: Audience,
    scope: EventFilter,
    query: HistoryQueryDto,
    page: { title: string; base: string; tabs: object; [key: string]: unknown },
  ): Promise<void> {
    const filter = {
      ...this.withDates(scope, query),
      hiddenTags: this.renderer.hiddenFrom(audience),
    };
    const found = await findEvents(this.dataSource.manager, filter, {
      before: query.before || undefined,
      after: query.before ? undefined : query.after || undefined,
      size: PAGE_SIZE,
    });
    const events = found.events.map((event) => this.renderer.render(event, audience));
    const { base, tabs, ...rest } = page;
    await this.plugin.render(res, 'history', {
      ...rest,
      tabs: tabs as never,
      base,
      query,
      audience,
      events,
      choices: this.renderer
        .choices(audience)
        .map((c) => ({ ...c, selected: c.tag === query.tag })),
      newer: found.newer && events.length ? link(base, query, { after: events[0].id }) : undefined,
      older:
        found.older && events.length
          ? link(base, query, { before: events[events.length - 1].id })
          : undefined,
    });
  }
}
