import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import {
  AuditTagRegistry,
  CONFIG,
  LOGGER,
  maybeRequestContext,
  runAtCommit,
  type Actor,
  type AuditEventInput,
  type AuditSink,
  type Config,
  type Logger,
  type RequestContext,
} from '../../src/plugin-api/index.js';
import { appendStatement, awaitDurable, insertEvents } from './audit.queries.js';
import { ipKey } from './chain/canonical.js';

/** A row of `audit_events` before it has an id. */
export interface AuditRow {
  occurredAt: Date;
  tag: string;
  actorId: string | null;
  actorName: string | null;
  actorKind: 'user' | 'token' | 'admin' | 'system' | 'anonymous';
  actorTokenId: string | null;
  actorTokenName: string | null;
  actorTwoFactor: string | null;
  userId: string | null;
  projectId: string | null;
  projectName: string | null;
  ip: string | null;
  /** The IP's keyed hash (chain/canonical.ts `ipKey`), what the chain covers. */
  ipHash: Buffer | null;
  userAgent: string | null;
  requestId: string | null;
  additional: Record<string, unknown>;
  plugin: string;
}

/** What the caller knows about an event; the rest comes from the request context. */
export interface AuditDraft extends AuditEventInput {
  plugin: string;
  /** Who acted, when it is not the context's actor (a sign-in: the context is still anonymous). */
  actor?: Actor;
  occurredAt?: Date;
}

/** Keys that would reveal a secret; refused in `additional` whoever records (audit-tags.md). */
const SECRET_KEY =
  /pass(word)?|hash|secret|(^|_)token$|token_value|^value$|recovery_code|otp|session|cookie|csrf/i;

/** The job name recorded for changes made with no request context (production only). */
const NO_CONTEXT = 'no-request-context';

/**
 * Builds audit rows from the request context and stores them. Inside a transaction a row is
 * queued on the transaction's query runner and inserted by {@link flush} in the COMMIT's own
 * message (the subscriber calls it from `beforeTransactionCommit`), so it commits or rolls back
 * with the change; outside one it is written at once in its own transaction.
 *
 * Inserting at commit time under `pg_advisory_xact_lock` makes ids follow commit order, and
 * the same locked insert chains each row to the one before (`hash`, docs/audit.md).
 */
@Injectable()
export class AuditWriter implements AuditSink, OnModuleDestroy {
  private readonly queued = new WeakMap<QueryRunner, Array<{ row: AuditRow; depth: number }>>();
  /**
   * Transactions that inserted events → whether they commit asynchronously ({@link afterCommit});
   * a promise while the insert waits to go out with COMMIT ({@link flush}).
   */
  private readonly committing = new WeakMap<QueryRunner, boolean | Promise<boolean>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly committedListeners = new Set<() => void>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly tags: AuditTagRegistry,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** {@link AuditSink}: what plugins record through `AuditRecorder` / `PluginContext.recordAudit`. */
  async record(
    event: AuditEventInput & { plugin: string },
    manager?: EntityManager,
  ): Promise<void> {
    await this.store([this.build(event)], manager);
  }

  /** Stores rows: queued on `manager`'s transaction when it has one, else written now. */
  async store(rows: AuditRow[], manager?: EntityManager): Promise<void> {
    const runner = manager?.queryRunner;
    if (runner?.isTransactionActive) {
      const depth = (runner as unknown as { transactionDepth: number }).transactionDepth;
      const list = this.queued.get(runner) ?? [];
      list.push(...rows.map((row) => ({ row, depth })));
      this.queued.set(runner, list);
      return;
    }
    if (runner && !runner.isReleased) {
      // A connection the caller holds outside a transaction: never ask the pool for another
      // (the embedded database has one).
      await this.insertNow(manager!, rows);
      return;
    }
    const write = this.dataSource.transaction((tx) => this.insertNow(tx, rows));
    this.inFlight.add(write);
    try {
      await write;
    } finally {
      this.inFlight.delete(write);
    }
  }

  /**
   * Called before COMMIT of the outermost transaction: inserts what it queued, in the same
   * message as the COMMIT (`runAtCommit`: one round trip fewer per audited write). If the
   * insert fails, PostgreSQL skips that COMMIT and it throws: the change rolls back with it.
   */
  async flush(runner: QueryRunner): Promise<void> {
    const depth = (runner as unknown as { transactionDepth: number }).transactionDepth;
    if (depth > 1) return; // a savepoint being released: the outer COMMIT flushes
    const list = this.queued.get(runner);
    this.queued.delete(runner);
    if (!list?.length) return;
    const { sql, params } = appendStatement(list.map((q) => q.row));
    const contended = runAtCommit(runner, sql, params).then(
      ([row]) => row.contended === true,
      // Its error reaches the caller through COMMIT, which then never reaches afterCommit.
      () => false,
    );
    this.noteInserted(runner, contended);
  }

  /**
   * Notes that `runner`'s transaction inserted events, and whether that insert waited for the
   * write lock (so the transaction commits asynchronously) — when known, or once it is.
   */
  private noteInserted(runner: QueryRunner, contended: boolean | Promise<boolean>): void {
    const before = this.committing.get(runner) ?? false;
    this.committing.set(
      runner,
      Promise.resolve(contended).then(async (now) => now || (await before)),
    );
  }

  /** Calls `listener` when events have committed (the search copy has events to copy). */
  onCommitted(listener: () => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  /**
   * Inserts the events now through `manager` (chained, under the write lock) with their
   * outbox rows for the streaming destinations, in the same transaction. Every write of
   * `audit_events` goes through here, so every event streams. Returns the new ids in order.
   */
  async insertNow(manager: EntityManager, rows: AuditRow[]): Promise<string[]> {
    const runner = manager.queryRunner;
    if (!runner?.isTransactionActive) {
      // The write lock is transaction-scoped: outside a transaction it would be gone before
      // the INSERT. On the caller's own connection when it holds one (the embedded database
      // has a single connection).
      const write = (tx: EntityManager) => this.insertNow(tx, rows);
      return runner && !runner.isReleased
        ? runner.manager.transaction(write)
        : this.dataSource.transaction(write);
    }
    const { ids, asynchronous } = await insertEvents(manager, rows);
    // `afterCommit` tells the search copy's job, and when the claim made this transaction's
    // COMMIT asynchronous (it waited for the write lock), first waits for the disk.
    this.noteInserted(runner, asynchronous);
    return ids;
  }

  /**
   * Called after COMMIT of the outermost transaction. When it inserted events and committed
   * asynchronously (see `claim` in audit.queries.ts), waits until the commit is on disk, so no
   * request is answered before its change and its events are durable; a failure here reaches
   * the caller like a failed COMMIT would: whether the change survived is unknown. Then tells
   * the search copy's job (audit.search.ts), which queues the events for streaming.
   */
  async afterCommit(runner: QueryRunner): Promise<void> {
    const committed = this.committing.get(runner);
    if (committed === undefined) return;
    this.committing.delete(runner);
    if (await committed) await awaitDurable(runner.manager);
    for (const listener of this.committedListeners) listener();
  }

  /** A rollback drops what was queued inside the rolled-back (sub)transaction. */
  discard(runner: QueryRunner): void {
    const depth = (runner as unknown as { transactionDepth: number }).transactionDepth;
    if (depth === 0) this.committing.delete(runner);
    const list = this.queued.get(runner);
    if (!list) return;
    // `depth` is already the level rolled back to: what was queued deeper is gone.
    const kept = list.filter((q) => q.depth <= depth);
    if (kept.length) this.queued.set(runner, kept);
    else this.queued.delete(runner);
  }

  /** Resolves when writes outside transactions (sign-ins, logouts) have landed. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** On shutdown (SIGTERM), lets after-hook writes land before the database closes. */
  onModuleDestroy(): Promise<void> {
    return this.idle();
  }

  /** Tracks a write started elsewhere (an after-hook), so {@link idle} waits for it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  /** The full row for `draft`, with actor, IP, user agent and request id from the context. */
  build(draft: AuditDraft, context: RequestContext | undefined = maybeRequestContext()): AuditRow {
    if (!this.tags.get(draft.tag)) throw new Error(`audit tag ${draft.tag} is not registered`);
    const additional = draft.additional ?? {};
    const secret = Object.keys(additional).find((key) => SECRET_KEY.test(key));
    if (secret) throw new Error(`audit event ${draft.tag}: "${secret}" looks like a secret`);
    if (!context) {
      const problem = `audit event ${draft.tag} recorded outside any request, job or command`;
      if (this.config.auditStrict) throw new Error(problem);
      this.logger.error({ tag: draft.tag }, problem);
    }
    const actor: Actor = draft.actor ?? context?.actor ?? { kind: 'system', name: NO_CONTEXT };
    const userId = draft.userId ?? null;
    return {
      occurredAt: draft.occurredAt ?? new Date(),
      tag: draft.tag,
      ...actorColumns(actor, userId),
      userId,
      projectId: draft.project?.id ?? null,
      projectName: draft.project?.name ?? null,
      ip: context?.ip ?? null,
      ipHash: context?.ip ? ipKey(this.config.secret, context.ip) : null,
      userAgent: context?.userAgent ?? null,
      requestId: context?.requestId ?? null,
      additional,
      plugin: draft.plugin,
    };
  }
}

/**
 * Who acted, as stored. An administrator acting on someone else's account is `admin` (their
 * IP is "Redacted" to the account holder); a token's owner is the actor, with the token named.
 */
export function actorColumns(
  actor: Actor,
  subject: string | null,
): Pick<
  AuditRow,
  'actorId' | 'actorName' | 'actorKind' | 'actorTokenId' | 'actorTokenName' | 'actorTwoFactor'
> {
  const none = { actorTokenId: null, actorTokenName: null, actorTwoFactor: null };
  switch (actor.kind) {
    case 'user':
      return {
        ...none,
        actorId: actor.userId,
        actorName: actor.username,
        actorKind: actor.isAdmin && subject !== null && subject !== actor.userId ? 'admin' : 'user',
        actorTwoFactor: actor.twoFactorMethod ?? null,
      };
    case 'token':
      return {
        ...none,
        actorId: actor.userId,
        actorName: actor.username,
        actorKind: 'token',
        actorTokenId: actor.tokenId,
        actorTokenName: actor.tokenName,
      };
    case 'system':
      return { ...none, actorId: null, actorName: actor.name, actorKind: 'system' };
    case 'anonymous':
      return { ...none, actorId: null, actorName: null, actorKind: 'anonymous' };
  }
}
