import { Injectable } from '@nestjs/common';
import { AuditTagRegistry, type AuditTagDefinition } from '../../src/plugin-api/index.js';
import type { LiveNames, StoredEvent } from './audit.queries.js';
import { VALUE_WORDS } from './catalogue.js';

/** Which history a page shows: decides what is redacted and which links make sense. */
export type Audience = 'account' | 'project' | 'admin';

export interface RenderedEvent {
  id: string;
  /** Plain words from the tag's one template: "API token release-bot added (…)". */
  summary: string;
  /** "by alice via API token release-bot"; `null` when nobody signed in acted. */
  by: string | null;
  /** ISO 8601, for `<time datetime>`; `when` is the same in words for people. */
  time: string;
  when: string;
  /** The address, or "Redacted" when someone else acted on the account holder's account. */
  ip: string;
  userAgent: string | null;
  requestId: string | null;
  /** For tags no one registers any more: `additional` as key-value pairs. */
  details: Array<{ key: string; value: string }>;
  generic: boolean;
  /** The raw tag: shown to admins next to the words, and used for filter links. */
  tag: string;
  /**
   * `href`: the project's page while it exists, `null` once deleted (plain text then);
   * `filter`: its events in the admin log (admins only; history outlives the project).
   */
  project: { name: string; href: string | null; filter: string | null } | null;
  /** The release a release or file event names, linked while it exists. */
  release: { version: string; href: string | null } | null;
  /** Admins: the account the event concerns, by username while it exists, and its events. */
  user: { id: string; name: string; href: string } | null;
}

const path = (...parts: string[]) => `/${parts.map(encodeURIComponent).join('/')}/`;

function words(key: string, value: unknown): string {
  if (value === null || value === undefined || value === '') {
    return key === 'expires' ? 'never' : 'not given';
  }
  if (Array.isArray(value)) return value.map((v) => words(key, v)).join(', ');
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'object') return JSON.stringify(value);
  const text = String(value);
  if (key === 'expires' && /^\d{4}-\d{2}-\d{2}T/.test(text)) return text.slice(0, 10);
  return VALUE_WORDS[key]?.[text] ?? text;
}

/** Fills `{key}` placeholders of a description template with the event's values in words. */
export function fill(template: string, additional: Record<string, unknown>): string {
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, key: string) => words(key, additional[key]));
}

/** A template as a short name for menus: "E-mail {email} added" → "E-mail added". */
export function label(template: string): string {
  return template
    .replace(/\s*\([^)]*\{[^}]+\}[^)]*\)/g, '')
    .replace(/\s+(?:by|from|of|as|on|to|for|with e-mail)\s+\{[^}]+\}/g, '')
    .replace(/:\s*\{[^}]+\}.*$/, '')
    .replace(/\s*\{[^}]+\}/g, '')
    .trim();
}

/** "by alice", "by alice via API token release-bot", "by an administrator (root)", … */
export function actorPhrase(event: StoredEvent): string | null {
  switch (event.actorKind) {
    case 'token':
      return `by ${event.actorName} via API token ${event.actorTokenName ?? event.actorTokenId}`;
    case 'admin':
      return `by administrator ${event.actorName}`;
    case 'user':
      return event.actorName ? `by ${event.actorName}` : null;
    case 'system':
      return `by Larder (${event.actorName ?? 'system'})`;
    default:
      return null;
  }
}

function when(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * The one renderer of audit events (audit-tags.md: one template per tag, every page renders
 * from it). Reads the templates from the AuditTagRegistry, where the core catalogue and every
 * plugin's tags are registered; a tag no one registers renders generically.
 */
@Injectable()
export class AuditRenderer {
  constructor(private readonly tags: AuditTagRegistry) {}

  definition(tag: string): AuditTagDefinition | undefined {
    return this.tags.get(tag);
  }

  /** Tags that do not show in `audience`'s history (every tag shows in the admin log). */
  hiddenFrom(audience: Audience): string[] {
    if (audience === 'admin') return [];
    return this.tags
      .all()
      .filter((d) => !d.showsIn.includes(audience))
      .map((d) => d.tag);
  }

  /** Tags listed in `audience`'s filter menu, with their plain-words names. */
  choices(audience: Audience): Array<{ tag: string; label: string }> {
    return this.tags
      .all()
      .filter((d) => audience === 'admin' || d.showsIn.includes(audience))
      .map((d) => ({ tag: d.tag, label: label(d.description) }))
      .sort((a, b) => a.label.localeCompare(b.label));
  }

  /**
   * `live` says which projects, releases and accounts still exist (audit.queries `liveNames`);
   * without it every name is taken to exist.
   */
  render(event: StoredEvent, audience: Audience, live?: LiveNames): RenderedEvent {
    const definition = this.tags.get(event.tag);
    const additional = event.additional ?? {};
    const someoneElse =
      event.actorKind === 'admin' ||
      event.actorKind === 'system' ||
      (event.actorId !== null && event.userId !== null && event.actorId !== event.userId);
    const redacted = audience === 'account' && someoneElse;
    return {
      id: event.id,
      tag: event.tag,
      generic: !definition,
      summary: definition ? fill(definition.description, additional) : `Event ${event.tag}`,
      details: definition
        ? []
        : Object.entries(additional).map(([key, value]) => ({ key, value: words(key, value) })),
      by: actorPhrase(event),
      time: new Date(event.occurredAt).toISOString(),
      when: when(new Date(event.occurredAt)),
      ip: redacted ? 'Redacted' : (event.ip ?? 'none (command line or job)'),
      userAgent: redacted ? null : event.userAgent,
      requestId: audience === 'admin' ? event.requestId : null,
      project: event.projectName ? this.project(event, audience, live) : null,
      release: this.release(event, live),
      user:
        audience === 'admin' && event.userId
          ? {
              id: event.userId,
              name: live?.users.get(event.userId) ?? event.userId,
              href: `/admin/audit/?user=${encodeURIComponent(event.userId)}`,
            }
          : null,
    };
  }

  private project(
    event: StoredEvent,
    audience: Audience,
    live: LiveNames | undefined,
  ): RenderedEvent['project'] {
    const name = event.projectName!;
    const current = !live ? name : event.projectId ? live.projects.get(event.projectId) : undefined;
    return {
      name,
      href: current ? path('project', current) : null,
      filter: audience === 'admin' ? `/admin/audit/?project=${encodeURIComponent(name)}` : null,
    };
  }

  private release(event: StoredEvent, live: LiveNames | undefined): RenderedEvent['release'] {
    const version = event.additional?.version;
    if (typeof version !== 'string' || !event.projectName) return null;
    const current = !live
      ? event.projectName
      : event.projectId && live.releases.has(`${event.projectId} ${version}`)
        ? live.projects.get(event.projectId)
        : undefined;
    return { version, href: current ? path('project', current, version) : null };
  }
}
