import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  CONFIG,
  LOGGER,
  maybeRequestContext,
  runAsSystem,
  type Config,
  type Logger,
} from '../../src/plugin-api/index.js';
import { AuditCheckpoints } from './audit.checkpoints.js';
import { AUDIT_WRITE_LOCK } from './audit.queries.js';
import { AuditWriter } from './audit.writer.js';

/** Held by the node running the retention, so two nodes never prune at once. */
export const AUDIT_PRUNE_LOCK = 7_231_555_007;
const DAY_MS = 24 * 60 * 60_000;
/** The first run after start: soon, but not in the middle of the boot. */
const FIRST_RUN_MS = 60_000;
const JOB = 'job:audit-retention';

export interface RetentionResult {
  /** Whether this node ran it (false: another node holds the retention lock). */
  ran: boolean;
  /** Events deleted, and the cut-off they were older than. */
  pruned: number;
  before?: Date;
  /** Events whose IP was replaced by its keyed hash. */
  ipsHashed: number;
}

/**
 * `LARDER_AUDIT_RETENTION_DAYS` and `LARDER_AUDIT_IP_RETENTION_DAYS` (docs/audit.md): a daily
 * job on each node (one at a time, by advisory lock) and `larder audit prune`.
 */
@Injectable()
export class AuditRetention implements OnApplicationBootstrap, OnModuleDestroy {
  private timers: NodeJS.Timeout[] = [];
  private running?: Promise<unknown>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly writer: AuditWriter,
    private readonly checkpoints: AuditCheckpoints,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (
      this.config.auditRetentionDays === undefined &&
      this.config.auditIpRetentionDays === undefined
    )
      return;
    const first = setTimeout(() => this.tick(), FIRST_RUN_MS);
    const daily = setInterval(() => this.tick(), DAY_MS);
    first.unref();
    daily.unref();
    this.timers = [first, daily];
  }

  async onModuleDestroy(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await this.running?.catch(() => undefined);
  }

  private tick(): void {
    if (this.running) return;
    this.running = runAsSystem(JOB, () => this.run({ wait: false }))
      .then((result) => {
        if (result.ran && (result.pruned || result.ipsHashed))
          this.logger.info({ auditRetention: result }, 'audit retention applied');
      })
      .catch((err: unknown) => this.logger.error({ err }, 'audit retention failed'))
      .finally(() => (this.running = undefined));
  }

  /**
   * Applies both retentions as configured. `wait: false` (the job) skips when another node
   * holds the retention lock; the command waits for it.
   */
  async run(
    { wait, now = new Date() }: { wait: boolean; now?: Date } = { wait: true },
  ): Promise<RetentionResult> {
    if (!maybeRequestContext()) return runAsSystem(JOB, () => this.run({ wait, now }));
    const result: RetentionResult = { ran: false, pruned: 0, ipsHashed: 0 };
    const days = this.config.auditRetentionDays;
    const ipDays = this.config.auditIpRetentionDays;
    return this.dataSource.transaction(async (tx) => {
      if (wait) await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_PRUNE_LOCK]);
      else {
        const [{ got }]: Array<{ got: boolean }> = await tx.query(
          'SELECT pg_try_advisory_xact_lock($1) AS got',
          [AUDIT_PRUNE_LOCK],
        );
        if (!got) return result;
      }
      result.ran = true;
      // Prune first: no point hashing the IPs of events about to go.
      if (days !== undefined) {
        result.before = new Date(now.getTime() - days * DAY_MS);
        result.pruned = await this.prune(tx, result.before);
      }
      if (ipDays !== undefined) {
        // `ip_hash` (written with every row, and covered by the chain) stays: the chain still
        // verifies and the exact-IP filter still matches.
        const cutoff = new Date(now.getTime() - ipDays * DAY_MS);
        const [, count]: [unknown, number] = await tx.query(
          'UPDATE audit_events SET ip = NULL WHERE ip IS NOT NULL AND occurred_at < $1',
          [cutoff],
        );
        result.ipsHashed = count;
        // The admin log's search copy (AuditSearch1796700000000) forgets them too.
        await tx.query(
          'UPDATE audit_event_search SET ip = NULL WHERE ip IS NOT NULL AND occurred_at < $1',
          [cutoff],
        );
      }
      return result;
    });
  }

  /**
   * Deletes the chain's oldest events, up to the first one at or after `before` (a prefix in id
   * order, so the rest still chains: a few events a little older than `before` may stay
   * behind a newer one). Records `admin:audit:prune` first — it is never pruned itself — and
   * leaves a signed anchor for the first remaining row's `prev_hash`.
   */
  private async prune(tx: import('typeorm').EntityManager, before: Date): Promise<number> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_WRITE_LOCK]);
    const [bound]: Array<{ id: string | null; rows: string }> = await tx.query(
      `SELECT b.id::text AS id,
              (SELECT count(*) FROM audit_events e WHERE b.id IS NULL OR e.id < b.id)::text AS rows
         FROM (SELECT (SELECT min(id) FROM audit_events WHERE occurred_at >= $1) AS id) b`,
      [before],
    );
    const rows = Number(bound.rows);
    if (rows === 0) return 0;
    const [pruneId] = await this.writer.insertNow(tx, [
      this.writer.build({
        tag: 'admin:audit:prune',
        plugin: 'core',
        additional: { before: before.toISOString(), rows },
      }),
    ]);
    await tx.query('DELETE FROM audit_events WHERE id < $1', [bound.id ?? pruneId]);
    const [first]: Array<{ id: string; prevHash: Buffer | null }> = await tx.query(
      'SELECT id::text AS id, prev_hash AS "prevHash" FROM audit_events ORDER BY audit_events.id LIMIT 1',
    );
    // Rows from before the chain left at the start have no link to anchor (verify reports
    // them as not covered).
    if (first.prevHash) await this.checkpoints.write(tx, 'anchor', first.id, first.prevHash);
    return rows;
  }
}
