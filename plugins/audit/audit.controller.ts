import {
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
import { DataSource } from 'typeorm';
import {
  AdminOnly,
  CONFIG,
  PROJECT_ROLE_RESOLVER,
  PluginContext,
  TabPage,
  requestContext,
  type Config,
  type ProjectRoleResolver,
} from '../../src/plugin-api/index.js';
import { AuditCheckpoints } from './audit.checkpoints.js';
import { AuditSigner } from './audit.signer.js';
import { AuditExportQueryDto, AuditLogQueryDto, HistoryQueryDto } from './audit.dto.js';
import { adminFilter, filterDate, givenFilters } from './audit.filters.js';
import { AuditExporter, EXPORT_CONTENT_TYPES } from './export/audit-exporter.js';
import { eventsPerDay, findEvents, liveNames, type EventFilter } from './audit.queries.js';
import { AuditRenderer, type Audience } from './audit.renderer.js';
import { barChart } from './chart.js';

export const PAGE_SIZE = 25;

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
    private readonly signer: AuditSigner,
    private readonly checkpoints: AuditCheckpoints,
    @Inject(CONFIG) private readonly config: Config,
    private readonly exporter: AuditExporter,
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
    const filter = await adminFilter(this.dataSource.manager, query, this.config.secret);
    const exportQuery = new URLSearchParams(givenFilters(query)).toString();
    // The chart and the chain's status are read while the page's events are (on a server,
    // on other connections): a filter the chart must count costs the slower of the two.
    const extras = Promise.all([
      eventsPerDay(this.dataSource.manager, filter, 30),
      this.chainStatus(),
    ]).then(([days, chain]) => ({ chart: barChart(days), chain }));
    await this.history(
      res,
      'admin',
      filter,
      query,
      {
        title: 'Audit log',
        base: '/admin/audit/',
        tabs: { set: 'admin', active: 'audit-log' },
        admin: true,
        exports: ['csv', 'jsonl'].map((format) => ({
          label: format === 'csv' ? 'Export CSV' : 'Export JSON Lines',
          href: `/admin/audit/export?${new URLSearchParams({ format }).toString()}${exportQuery ? `&${exportQuery}` : ''}`,
        })),
      },
      extras,
    );
  }

  /** Key, head, last checkpoint and last `verify`: three indexed lookups, never a walk. */
  private async chainStatus() {
    const [head]: Array<{ id: string }> = await this.dataSource.query(
      'SELECT id::text AS id FROM audit_events ORDER BY audit_events.id DESC LIMIT 1',
    );
    const checkpoint = await this.checkpoints.latest();
    const [run]: Array<{
      finishedAt: Date;
      ok: boolean;
      lastId: string | null;
      rows: string;
      problem: string | null;
    }> = await this.dataSource.query(
      `SELECT finished_at AS "finishedAt", ok, last_id::text AS "lastId", rows::text AS rows, problem
           FROM audit_verify_runs ORDER BY id DESC LIMIT 1`,
    );
    return {
      fingerprint: this.signer.fingerprint,
      headId: head?.id,
      checkpoint: checkpoint && {
        id: checkpoint.id,
        kind: checkpoint.kind,
        headId: checkpoint.headId,
        signedAt: checkpoint.signedAt.toISOString(),
      },
      verify: run && { ...run, finishedAt: run.finishedAt.toISOString() },
    };
  }

  /** The filtered log as a streamed download; recorded as `admin:audit:export`. */
  @Get('admin/audit/export')
  @AdminOnly()
  async export(@Query() query: AuditExportQueryDto, @Res() res: Response): Promise<void> {
    const filter = await adminFilter(this.dataSource.manager, query, this.config.secret);
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    // Set here: Nest's @Header does not apply to handlers that take @Res().
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Type', EXPORT_CONTENT_TYPES[query.format]);
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="larder-audit-${stamp}.${query.format}"`,
    );
    await this.exporter.export(filter, query.format, givenFilters(query), res);
  }

  private withDates(filter: EventFilter, query: HistoryQueryDto): EventFilter {
    return {
      ...filter,
      tags: query.tag ? [query.tag] : undefined,
      since: filterDate(query.since),
      until: filterDate(query.until, true),
    };
  }

  private async history(
    res: Response,
    audience: Audience,
    scope: EventFilter,
    query: HistoryQueryDto,
    page: { title: string; base: string; tabs: object; [key: string]: unknown },
    extras: Promise<Record<string, unknown>> = Promise.resolve({}),
  ): Promise<void> {
    const filter = {
      ...this.withDates(scope, query),
      hiddenTags: this.renderer.hiddenFrom(audience),
    };
    const [found, more] = await Promise.all([
      findEvents(this.dataSource.manager, filter, {
        before: query.before || undefined,
        after: query.before ? undefined : query.after || undefined,
        size: PAGE_SIZE,
      }),
      extras,
    ]);
    const live = await liveNames(this.dataSource.manager, found.events);
    const events = found.events.map((event) => this.renderer.render(event, audience, live));
    const { base, tabs, ...rest } = page;
    await this.plugin.render(res, 'history', {
      ...rest,
      ...more,
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
