import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { CONFIG, PluginContext, type Config } from '../../../src/plugin-api/index.js';
import type { AuditOptions } from '../audit.options.js';
import { AuditWriter } from '../audit.writer.js';
import { AuditStreamDestination } from './stream.entities.js';
import type { AddStreamDto } from './stream.dto.js';
import { sealSecret } from './stream-secret.js';
import {
  checkWebhookTarget,
  ensureStreamDir,
  fileNameFor,
  lstatOrNull,
  streamDirOf,
} from './stream-guard.js';

/** A URL as recorded in the log: no credentials, query or fragment (they may hold secrets). */
function shownTarget(kind: string, target: string): string {
  if (kind !== 'webhook') return target;
  const url = new URL(target);
  return `${url.origin}${url.pathname}`;
}

/** Adds, removes, pauses and resumes destinations; each change is itself audited. */
@Injectable()
export class AuditStreamService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly writer: AuditWriter,
    @Inject(CONFIG) private readonly config: Config,
    private readonly plugin: PluginContext<AuditOptions>,
  ) {}

  list(): Promise<AuditStreamDestination[]> {
    return this.dataSource.getRepository(AuditStreamDestination).find({ order: { name: 'ASC' } });
  }

  async add(input: AddStreamDto): Promise<AuditStreamDestination> {
    let target = input.target.trim();
    let secret: string | null = null;
    if (input.kind === 'webhook') {
      let url: URL;
      try {
        url = new URL(target);
      } catch {
        throw new BadRequestException('target must be an http:// or https:// URL for a webhook');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new BadRequestException('target must be an http:// or https:// URL for a webhook');
      }
      if (!input.secret || input.secret.length < 16) {
        throw new BadRequestException('a webhook needs a secret of at least 16 characters');
      }
      if (!this.plugin.options.streamAllowPrivate) {
        const problem = await checkWebhookTarget(url);
        if (problem) throw new BadRequestException(`target refused: ${problem}`);
      }
      secret = sealSecret(this.config.secret, input.secret);
    } else {
      const dir = streamDirOf(this.plugin.options, this.config);
      try {
        target = fileNameFor(target, dir);
      } catch (error) {
        throw new BadRequestException((error as Error).message);
      }
      ensureStreamDir(dir);
      const existing = lstatOrNull(join(dir, target));
      if (existing && !existing.isFile()) {
        // Writes would not follow it anyway (O_NOFOLLOW): say so now rather than fail later.
        throw new BadRequestException(
          `${join(dir, target)} is ${existing.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}`,
        );
      }
    }
    const tagPrefixes = [...new Set((input.tags ?? '').split(/[\s,]+/).filter(Boolean))];
    return this.dataSource.transaction(async (tx) => {
      if (await tx.existsBy(AuditStreamDestination, { name: input.name })) {
        throw new BadRequestException(`a destination named "${input.name}" exists already`);
      }
      const saved = await tx.save(
        tx.create(AuditStreamDestination, {
          name: input.name,
          kind: input.kind,
          target,
          tagPrefixes,
          secretSealed: secret,
        }),
      );
      await this.writer.record(
        {
          tag: 'admin:audit:stream:add',
          plugin: 'audit',
          additional: {
            name: saved.name,
            kind: saved.kind,
            target: shownTarget(saved.kind, target),
            tag_prefixes: tagPrefixes,
          },
        },
        tx,
      );
      return saved;
    });
  }

  async setPaused(id: string, paused: boolean): Promise<void> {
    await this.change(
      id,
      paused ? 'admin:audit:stream:pause' : 'admin:audit:stream:resume',
      (tx, d) => tx.update(AuditStreamDestination, { id: d.id }, { paused }),
    );
  }

  /** Removes the destination and what it still had queued. */
  async remove(id: string): Promise<void> {
    await this.change(id, 'admin:audit:stream:remove', async (tx, d) => {
      await tx.query('DELETE FROM audit_outbox WHERE destination_id = $1', [d.id]);
      await tx.delete(AuditStreamDestination, { id: d.id });
    });
  }

  private async change(
    id: string,
    tag: string,
    apply: (tx: import('typeorm').EntityManager, d: AuditStreamDestination) => Promise<unknown>,
  ): Promise<void> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new NotFoundException('No such destination.');
    await this.dataSource.transaction(async (tx) => {
      const destination = await tx.findOneBy(AuditStreamDestination, { id });
      if (!destination) throw new NotFoundException('No such destination.');
      await apply(tx, destination);
      await this.writer.record(
        { tag, plugin: 'audit', additional: { name: destination.name } },
        tx,
      );
    });
  }
}
