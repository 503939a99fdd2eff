import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  LOGGER,
  maybeRequestContext,
  runAsSystem,
  type Logger,
} from '../../src/plugin-api/index.js';
import { AuditCheckpoint } from './audit-checkpoint.entity.js';
import { AuditOptions } from './audit.options.js';
import { AUDIT_WRITE_LOCK } from './audit.queries.js';
import { AuditSigner } from './audit.signer.js';
import { AuditWriter } from './audit.writer.js';

/** How often each node asks whether a checkpoint is due (a cheap indexed query). */
const POLL_MS = 30_000;
const JOB = 'job:audit-checkpoint';

/**
 * Signed checkpoints (docs/audit.md): every `checkpointEvery` events, or when the oldest
 * unsigned event is `checkpointMinutes` old, the chain head is signed, stored in
 * `audit_checkpoints`, logged, and recorded as `audit:checkpoint:signed` so that it leaves the
 * database with the other events. Written under the audit write lock with the due-check
 * repeated inside it, so with several nodes exactly one writes a given checkpoint.
 */
@Injectable()
export class AuditCheckpoints implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly signer: AuditSigner,
    private readonly writer: AuditWriter,
    private readonly options: AuditOptions,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), POLL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  private tick(): void {
    if (this.running) return;
    this.running = runAsSystem(JOB, () => this.writeIfDue())
      .catch((err: unknown) => this.logger.error({ err }, 'audit checkpoint failed'))
      .finally(() => (this.running = undefined));
  }

  /** Writes a checkpoint when one is due; returns it, or null. Acts as the checkpoint job. */
  async writeIfDue(now = new Date()): Promise<AuditCheckpoint | null> {
    if (!maybeRequestContext()) return runAsSystem(JOB, () => this.writeIfDue(now));
    if (!(await this.due(this.dataSource.manager, now))) return null;
    return this.dataSource.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_WRITE_LOCK]);
      // Another node may have written it while we waited for the lock.
      if (!(await this.due(tx, now))) return null;
      const [head]: Array<{ id: string; hash: Buffer | null }> = await tx.query(
        'SELECT id::text AS id, hash FROM audit_events ORDER BY audit_events.id DESC LIMIT 1',
      );
      if (!head.hash) {
        // Every write is chained: a newest row without a hash was inserted around the writer
        // (or the database holds only events from before the chain). Nothing to sign.
        this.logger.warn(
          { headId: head.id },
          `audit checkpoint skipped: the newest event (${head.id}) is not chained; run \`larder audit verify\``,
        );
        return null;
      }
      return this.write(tx, 'checkpoint', head.id, head.hash);
    });
  }

  private async due(manager: EntityManager, now: Date): Promise<boolean> {
    const [last]: Array<{ headId: string }> = await manager.query(
      `SELECT head_id::text AS "headId" FROM audit_checkpoints
        WHERE kind = 'checkpoint' ORDER BY head_id DESC LIMIT 1`,
    );
    const since = last?.headId ?? '0';
    // Bounded by `checkpointEvery` rows of the primary key, whatever the backlog.
    const [row]: Array<{ n: number; oldest: Date | null }> = await manager.query(
      `SELECT (SELECT count(*) FROM (SELECT 1 FROM audit_events WHERE id > $1 LIMIT $2) s)::int AS n,
              (SELECT occurred_at FROM audit_events WHERE id > $1 ORDER BY id LIMIT 1) AS oldest`,
      [since, this.options.checkpointEvery],
    );
    if (row.n === 0 || !row.oldest) return false;
    return (
      row.n >= this.options.checkpointEvery ||
      now.getTime() - row.oldest.getTime() >= this.options.checkpointMinutes * 60_000
    );
  }

  /**
   * Signs and stores a checkpoint (or a prune's anchor) inside `tx`, which must hold the audit
   * write lock, and records it as an audit event after it.
   */
  async write(
    tx: EntityManager,
    kind: 'checkpoint' | 'anchor',
    headId: string,
    headHash: Buffer,
  ): Promise<AuditCheckpoint> {
    const [{ id }]: Array<{ id: string }> = await tx.query(
      `SELECT nextval('audit_checkpoints_id_seq')::text AS id`,
    );
    const signedAt = new Date();
    const statement = { id, kind, headId, headHash, signedAt };
    const checkpoint = tx.getRepository(AuditCheckpoint).create({
      ...statement,
      signature: this.signer.sign(statement),
      keyFingerprint: this.signer.fingerprint,
    });
    await tx.getRepository(AuditCheckpoint).insert(checkpoint);
    const additional = {
      checkpoint_id: id,
      kind,
      head_id: headId,
      head_sha256: headHash.toString('hex'),
      signed_at: signedAt.toISOString(),
      signature: checkpoint.signature.toString('base64'),
      key_fingerprint: checkpoint.keyFingerprint,
    };
    // The log line is a copy kept outside the database, whatever happens to the tables.
    this.logger.info(
      { auditCheckpoint: additional },
      `audit ${kind} ${id} signed at row ${headId}`,
    );
    await this.writer.insertNow(tx, [
      this.writer.build({ tag: 'audit:checkpoint:signed', plugin: 'audit', additional }),
    ]);
    return checkpoint;
  }

  /** The latest checkpoint, for the admin page. */
  latest(): Promise<AuditCheckpoint | null> {
    return this.dataSource.getRepository(AuditCheckpoint).findOne({
      where: {},
      order: { id: 'DESC' },
    });
  }
}
