import {
  BadRequestException,
  Controller,
  Get,
  Header,
  Inject,
  Optional,
  Query,
  Res,
  UnauthorizedException,
} from '@nestjs/common';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import {
  ACCOUNT_DIRECTORY,
  CONFIG,
  CurrentAuth,
  PluginContext,
  PROJECT_ROLE_RESOLVER,
  Public,
  type AccountDirectory,
  type Config,
  type ProjectRoleResolver,
  type RequestAuth,
} from '../../../src/plugin-api/index.js';
import { adminFilter } from '../audit.filters.js';
import { findEvents, type EventFilter, type StoredEvent } from '../audit.queries.js';
import { AuditRenderer, type Audience } from '../audit.renderer.js';
import { AuditApiQueryDto } from './audit-api.dto.js';
import { AUDIT_API_PARAMETERS, AUDIT_EVENT_SCHEMA, auditOpenApi } from './openapi.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 500;

/** What a caller may read: a filter ANDed with theirs, and how each event is redacted. */
interface Visibility {
  filter: EventFilter;
  audience(event: StoredEvent): Audience;
}

function cursorOf(id: string): string {
  return Buffer.from(`b:${id}`).toString('base64url');
}

function beforeId(cursor: string): string {
  const match = /^b:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new BadRequestException('cursor must be a `next` value this API returned');
  return match[1];
}

/**
 * `GET /api/v1/audit/events` and its OpenAPI description (`/api/docs`). Who sees what:
 * - an administrator (session or account-wide token): every event;
 * - an administrator's project-scoped token: the events of those projects;
 * - anyone else: the events of the projects they own, and — unless the token is scoped to
 *   projects — their own account's Security history (IPs of others' actions redacted, as there).
 *
 * The route is `@Public` so that a missing *and* a bad token both answer 401 (the guard answers
 * 403 for a refused token elsewhere, as twine expects); it refuses anonymous callers itself.
 */
@Controller()
export class AuditApiController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly renderer: AuditRenderer,
    private readonly plugin: PluginContext,
    @Inject(CONFIG) private readonly config: Config,
    @Optional() @Inject(ACCOUNT_DIRECTORY) private readonly accounts?: AccountDirectory,
    @Optional() @Inject(PROJECT_ROLE_RESOLVER) private readonly projects?: ProjectRoleResolver,
  ) {}

  @Get('api/v1/audit/events')
  @Public()
  @Header('Cache-Control', 'no-store')
  async events(
    @Query() query: AuditApiQueryDto,
    @CurrentAuth() auth: RequestAuth,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (auth.kind === 'anonymous') {
      res.setHeader('WWW-Authenticate', 'Basic realm="larder"');
      throw new UnauthorizedException(
        'A valid API token is required (HTTP Basic, username __token__, the token as password).',
      );
    }
    const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit);
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new BadRequestException(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
    }
    const before = query.cursor === undefined ? undefined : beforeId(query.cursor);
    const asked = await adminFilter(this.dataSource.manager, query, this.config.secret);
    const visible = await this.visibility(auth);
    const found = await findEvents(
      this.dataSource.manager,
      { ...asked, anyOf: [visible.filter] },
      { before, size: limit },
    );
    return {
      events: found.events.map((event) => this.present(event, visible.audience(event))),
      next: found.older && found.events.length ? cursorOf(found.events.at(-1)!.id) : null,
    };
  }

  @Get('api/docs/openapi.json')
  @Public()
  openApi() {
    return auditOpenApi(this.config.baseUrl);
  }

  @Get('api/docs')
  @Public()
  async docs(@Res() res: Response): Promise<void> {
    await this.plugin.render(res, 'api-docs', {
      title: 'API',
      parameters: AUDIT_API_PARAMETERS.map((p) => ({
        ...p,
        type: String(p.schema.format ?? p.schema.type),
      })),
      fields: Object.entries(AUDIT_EVENT_SCHEMA.properties).map(([name, schema]) => ({
        name,
        type: String((schema as { format?: string; type: string }).format ?? schema.type),
        description: (schema as { description?: string }).description ?? '',
      })),
      maxLimit: MAX_LIMIT,
    });
  }

  private async visibility(auth: Exclude<RequestAuth, { kind: 'anonymous' }>): Promise<Visibility> {
    const scope = auth.kind === 'token' ? auth.token.projects : null;
    if (auth.user.isAdmin) {
      if (scope === null) return { filter: {}, audience: () => 'admin' };
      const ids = await this.projectIds(scope, auth.user.id);
      return {
        filter: { anyOf: ids.map((projectId) => ({ projectId })) },
        audience: () => 'admin',
      };
    }
    const owned = (await this.accounts?.ownedProjects(auth.user.id)) ?? [];
    const projects = owned.filter((p) => scope === null || scope.includes(p.normalizedName));
    const projectIds = new Set(projects.map((p) => p.id));
    const hiddenFromProject = this.renderer.hiddenFrom('project');
    const anyOf: EventFilter[] = projects.map((p) => ({
      projectId: p.id,
      hiddenTags: hiddenFromProject,
    }));
    if (scope === null) {
      anyOf.push({ userId: auth.user.id, hiddenTags: this.renderer.hiddenFrom('account') });
    }
    return {
      filter: { anyOf },
      audience: (event) =>
        event.projectId !== null && projectIds.has(event.projectId) ? 'project' : 'account',
    };
  }

  /** Ids of the projects a scoped token names (by normalised name), as far as they exist. */
  private async projectIds(names: string[], userId: string): Promise<string[]> {
    const found = await Promise.all(names.map((name) => this.projects?.resolve(name, userId)));
    return found.flatMap((f) => (f ? [f.project.id] : []));
  }

  private present(event: StoredEvent, audience: Audience) {
    const shown = this.renderer.render(event, audience);
    const redacted = shown.ip === 'Redacted';
    return {
      id: Number(event.id),
      tag: event.tag,
      occurred_at: new Date(event.occurredAt).toISOString(),
      description: shown.summary,
      actor_name: event.actorName,
      actor_kind: event.actorKind,
      actor_token_name: event.actorTokenName,
      user_id: event.userId,
      project_name: event.projectName,
      ip: redacted ? null : event.ip,
      user_agent: redacted ? null : event.userAgent,
      request_id: audience === 'admin' ? event.requestId : null,
      additional: event.additional ?? {},
    };
  }
}
