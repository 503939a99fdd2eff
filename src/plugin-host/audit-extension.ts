import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AuditTagDefinition } from './plugin-manifest.js';

/** What a plugin (or the core) asks to be recorded: who and what it concerns, and details. */
export interface AuditEventInput {
  tag: string;
  /** The account the event concerns (its history shows it). */
  userId?: string | null;
  /**
   * The project it concerns: id and name, so history outlives the project. `id` is `null` for
   * a name no project has (yet): an upload refused before its project existed.
   */
  project?: { id: string | null; name: string } | null;
  /** Names, versions, filenames… never a secret. */
  additional?: Record<string, unknown>;
}

/** Implemented by the audit plugin: stores one event, in `manager`'s transaction when given. */
export interface AuditSink {
  record(event: AuditEventInput & { plugin: string }, manager?: EntityManager): Promise<void>;
}

/**
 * The audit catalogue's extension point (DESIGN.md §8): plugins' tags, from their manifests'
 * `auditTags`, and any the audit plugin registers for the core. The audit plugin reads it to
 * render every event; without the audit plugin it is simply never read.
 */
@Injectable()
export class AuditTagRegistry {
  private readonly tags = new Map<string, AuditTagDefinition & { owner: string }>();

  register(definition: AuditTagDefinition, owner: string): void {
    const existing = this.tags.get(definition.tag);
    if (existing) {
      throw new Error(
        `audit tag ${definition.tag} is registered twice (${existing.owner}, ${owner})`,
      );
    }
    this.tags.set(definition.tag, { ...definition, owner });
  }

  get(tag: string): (AuditTagDefinition & { owner: string }) | undefined {
    return this.tags.get(tag);
  }

  all(): Array<AuditTagDefinition & { owner: string }> {
    return [...this.tags.values()];
  }
}

/**
 * Where plugins record audit events. The audit plugin plugs its storage in with
 * {@link implement}; until then (or without it) recording is a no-op, so a plugin can record
 * unconditionally.
 */
@Injectable()
export class AuditRecorder {
  private sink: AuditSink | undefined;

  constructor(private readonly tags: AuditTagRegistry) {}

  implement(sink: AuditSink): void {
    if (this.sink) throw new Error('an audit sink is already installed');
    this.sink = sink;
  }

  /** Whether events are stored at all (the audit plugin is loaded). */
  get enabled(): boolean {
    return this.sink !== undefined;
  }

  /** Pass the action's `manager` to commit or roll back with it; omit it after the commit. */
  async record(plugin: string, event: AuditEventInput, manager?: EntityManager): Promise<void> {
    if (!this.sink) return;
    if (!this.tags.get(event.tag)) {
      // An unregistered tag would render as a raw string in every history: refuse it early.
      throw new Error(`${plugin} recorded audit tag ${event.tag}, which no one registered`);
    }
    await this.sink.record({ ...event, plugin }, manager);
  }
}
