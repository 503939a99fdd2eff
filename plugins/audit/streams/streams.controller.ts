import { Body, Controller, Get, Inject, Param, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import {
  AdminOnly,
  CONFIG,
  PluginContext,
  TabPage,
  type Config,
} from '../../../src/plugin-api/index.js';
import type { AuditOptions } from '../audit.options.js';
import { streamDirOf } from './stream-guard.js';
import { AddStreamDto } from './stream.dto.js';
import { outboxStatus } from './stream.queries.js';
import { AuditStreamService } from './stream.service.js';

const BASE = '/admin/audit/streams/';

/** Admin → Audit streams: where events are sent, their delivery log, pause and resume. */
@Controller('admin/audit/streams')
export class AuditStreamsController {
  constructor(
    private readonly streams: AuditStreamService,
    private readonly dataSource: DataSource,
    private readonly plugin: PluginContext<AuditOptions>,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @Get()
  @TabPage('admin', 'audit-streams')
  async list(@Res() res: Response): Promise<void> {
    const status = await outboxStatus(this.dataSource.manager);
    const destinations = (await this.streams.list()).map((d) => ({
      id: d.id,
      name: d.name,
      kind: d.kind,
      target: d.target,
      tags: d.tagPrefixes.length ? d.tagPrefixes.join(', ') : 'every event',
      paused: d.paused,
      delivered: d.delivered,
      lastSuccessAt: d.lastSuccessAt?.toISOString() ?? null,
      lastError: d.lastError,
      lastErrorAt: d.lastErrorAt?.toISOString() ?? null,
      pending: status.get(d.id)?.pending ?? 0,
      attempts: status.get(d.id)?.attempts ?? 0,
    }));
    await this.plugin.render(res, 'streams', {
      title: 'Audit streams',
      tabs: { set: 'admin', active: 'audit-streams' },
      destinations,
      streamDir: streamDirOf(this.plugin.options, this.config),
    });
  }

  @Post()
  @AdminOnly()
  async add(@Body() body: AddStreamDto, @Res() res: Response): Promise<void> {
    await this.streams.add(body);
    res.redirect(303, BASE);
  }

  @Post(':id/pause')
  @AdminOnly()
  async pause(@Param('id') id: string, @Res() res: Response): Promise<void> {
    await this.streams.setPaused(id, true);
    res.redirect(303, BASE);
  }

  @Post(':id/resume')
  @AdminOnly()
  async resume(@Param('id') id: string, @Res() res: Response): Promise<void> {
    await this.streams.setPaused(id, false);
    res.redirect(303, BASE);
  }

  @Post(':id/remove')
  @AdminOnly()
  async remove(@Param('id') id: string, @Res() res: Response): Promise<void> {
    await this.streams.remove(id);
    res.redirect(303, BASE);
  }
}
