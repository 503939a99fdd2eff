import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LOGGER, PluginContext, type Logger } from '../../src/plugin-api/index.js';
import type { AuditOptions } from './audit.options.js';
import { AuditWriter } from './audit.writer.js';

/** Events copied per transaction: a large backlog (a bulk import, a node that was down) goes in steps. */
const BATCH = 5_000;

/**
 * Keeps `audit_event_search`, the daily counts and the streaming outbox up to date with
 * `audit_events` (migration AuditSearch1796700000000): a moment after events commit on this
 * node, and every `searchPollMs` for those of other nodes, it runs `audit_search_catch_up`
 * until the watermark reaches the newest event. Off the request path: an audited write pays
 * only for its row and the indexes the histories read.
 *
 * Nothing depends on it for correctness: the admin log's queries read `audit_events` past the
 * watermark, so a filter finds an event as soon as it has committed. A lagging copy costs
 * speed (a longer tail to scan) and delays streaming. Several nodes may run it at once: the
 * row lock on `audit_search_state` serialises them, and each batch moves the watermark in the
 * transaction that copies.
 */
@Injectable()
export class AuditSearch implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private soon?: NodeJS.Timeout;
  private running: Promise<number> | null = null;
  private next: Promise<number> | null = null;
  private stopped = false;
  private unsubscribe?: () => void;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly writer: AuditWriter,
    private readonly plugin: PluginContext<AuditOptions>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const { searchPollMs, searchDelayMs } = this.plugin.options;
    if (searchPollMs > 0) {
      this.timer = setInterval(() => void this.catchUp().catch(() => undefined), searchPollMs);
      this.timer.unref();
    }
    // After this node's commits: once per `searchDelayMs` at most, so that a busy node copies
    // in batches instead of one transaction per audited write.
    this.unsubscribe = this.writer.onCommitted(() => {
      if (this.soon || this.stopped) return;
      this.soon = setTimeout(() => {
        this.soon = undefined;
        void this.catchUp().catch(() => undefined);
      }, searchDelayMs);
      this.soon.unref();
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.unsubscribe?.();
    await this.running?.catch(() => undefined);
    await this.next?.catch(() => undefined);
  }

  /** Calls `listener` after a round copied events (the streaming worker has work). */
  onCopied(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Copies everything committed so far; resolves with how many events it copied. Called while
   * a round runs, it waits for that round and runs one more (the events committed meanwhile),
   * shared by every caller in that time.
   */
  catchUp(): Promise<number> {
    if (this.running) {
      this.next ??= this.running
        .catch(() => 0)
        .then(() => {
          this.next = null;
          return this.catchUp();
        });
      return this.next;
    }
    const round = this.copyAll()
      .catch((err: unknown) => {
        this.logger.error({ err }, 'audit search: catching up failed');
        throw err;
      })
      .finally(() => (this.running = null));
    this.running = round;
    return round;
  }

  private async copyAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const copied = await this.dataSource.transaction(async (tx) => {
        // A crash may lose the last batches' commit: their watermark goes with them, and the
        // next round copies them again. No request waits for this flush.
        await tx.query(`SELECT set_config('synchronous_commit', 'off', true)`);
        const [row]: Array<{ n: number }> = await tx.query(
          'SELECT audit_search_catch_up($1) AS n',
          [BATCH],
        );
        return row.n;
      });
      total += copied;
      if (copied < BATCH || this.stopped) break;
    }
    if (total > 0) for (const listener of this.listeners) listener();
    return total;
  }
}
