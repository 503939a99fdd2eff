import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import {
  DataSource,
  type EntityManager,
  type EntityMetadata,
  type EntitySubscriberInterface,
  type InsertEvent,
  type ObjectLiteral,
  type QueryRunner,
  type RemoveEvent,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
  type UpdateEvent,
} from 'typeorm';
import {
  CONFIG,
  LOGGER,
  maybeRequestContext,
  type Config,
  type Logger,
  type RequestContext,
} from '../../src/plugin-api/index.js';
import {
  Lookup,
  RULES,
  UNAUDITED_TABLES,
  type Operation,
  type Row,
  type RowChange,
} from './audit.mapping.js';
import { AuditWriter, type AuditRow } from './audit.writer.js';

/** A change to an audited table the subscriber cannot turn into an event. */
export class UnattributedChangeError extends Error {
  constructor(table: string, operation: string, problem: string) {
    super(`audit: cannot attribute ${operation} on ${table}: ${problem}`);
    this.name = 'UnattributedChangeError';
  }
}

interface Captured {
  change: RowChange;
  context: RequestContext | undefined;
  /** Why it cannot be attributed (recorded as `audit:unmapped:change` outside strict mode). */
  problem?: string;
}

/** The acting account and the name `submitted_by` gives it. */
function actorOf(context: RequestContext | undefined): {
  actorId: string | null;
  actorName: string | null;
} {
  const actor = context?.actor;
  if (actor?.kind === 'user' || actor?.kind === 'token') {
    return { actorId: actor.userId, actorName: actor.username };
  }
  return { actorId: null, actorName: actor?.kind === 'system' ? actor.name : null };
}

function columnsOf(metadata: EntityMetadata, entity: ObjectLiteral | undefined): Row {
  const row: Row = {};
  if (!entity) return row;
  for (const column of metadata.columns) row[column.databaseName] = column.getEntityValue(entity);
  return row;
}

/**
 * The entity subscriber on the core's audited tables (DESIGN.md §8 capture 1). Registered on
 * the app's DataSource at start. Each insert, update and remove of an audited row is noted
 * on its transaction; just before COMMIT the transaction's changes become catalogue events
 * (audit.mapping.ts) written through that transaction's own query runner — so an event
 * commits or rolls back with its change, and the embedded database's single connection is
 * never asked for twice.
 *
 * A change it cannot attribute (no request context, a query-builder write that gives it no
 * row, a column no rule knows) throws when `auditStrict` (tests), rolling the change back;
 * in production it is recorded as `audit:unmapped:change` and logged as an error.
 */
@Injectable()
export class AuditSubscriber implements EntitySubscriberInterface, OnModuleInit, OnModuleDestroy {
  private readonly pending = new WeakMap<QueryRunner, Captured[]>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly writer: AuditWriter,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.dataSource.subscribers.push(this);
  }

  onModuleDestroy(): void {
    const index = this.dataSource.subscribers.indexOf(this);
    if (index >= 0) this.dataSource.subscribers.splice(index, 1);
  }

  /** A query builder's update or delete is refused before it runs: it names no row. */
  beforeUpdate(event: UpdateEvent<ObjectLiteral>): void {
    const table = event.metadata.tableName;
    if (!RULES[table] || UNAUDITED_TABLES.has(table)) return;
    if (!event.databaseEntity) {
      this.refuse(table, 'update', 'no row (a query-builder write? use save/remove)');
    }
  }

  beforeRemove(event: RemoveEvent<ObjectLiteral>): void {
    const table = event.metadata.tableName;
    if (!RULES[table] || UNAUDITED_TABLES.has(table)) return;
    if (!event.databaseEntity && !event.entity) {
      this.refuse(table, 'remove', 'no row (a query-builder write? use save/remove)');
    }
  }

  async afterInsert(event: InsertEvent<ObjectLiteral>): Promise<void> {
    await this.capture(event.queryRunner, event.metadata, 'insert', event.entity);
  }

  async afterUpdate(event: UpdateEvent<ObjectLiteral>): Promise<void> {
    await this.capture(
      event.queryRunner,
      event.metadata,
      'update',
      event.entity as ObjectLiteral | undefined,
      event.databaseEntity,
      event.updatedColumns.map((c) => c.databaseName),
    );
  }

  async afterRemove(event: RemoveEvent<ObjectLiteral>): Promise<void> {
    await this.capture(
      event.queryRunner,
      event.metadata,
      'remove',
      event.databaseEntity ?? event.entity,
    );
  }

  async beforeTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const runner = event.queryRunner;
    const depth = (runner as unknown as { transactionDepth: number }).transactionDepth;
    if (depth <= 1) {
      const captured = this.pending.get(runner);
      this.pending.delete(runner);
      if (captured?.length) {
        await this.writer.store(await this.derive(captured, runner.manager), runner.manager);
      }
    }
    await this.writer.flush(runner);
  }

  async afterTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const depth = (event.queryRunner as unknown as { transactionDepth: number }).transactionDepth;
    if (depth === 0) await this.writer.afterCommit(event.queryRunner);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    const runner = event.queryRunner;
    const depth = (runner as unknown as { transactionDepth: number }).transactionDepth;
    // Back at the outermost level, nothing of the transaction survives. (A savepoint rolled
    // back inside a longer transaction keeps its captures: the core does not use them.)
    if (depth === 0) this.pending.delete(runner);
    this.writer.discard(runner);
  }

  private async capture(
    runner: QueryRunner,
    metadata: EntityMetadata,
    operation: Operation,
    entity: ObjectLiteral | undefined,
    before?: ObjectLiteral,
    columns: string[] = [],
  ): Promise<void> {
    const table = metadata.tableName;
    if (UNAUDITED_TABLES.has(table) || !RULES[table]) return;
    const context = maybeRequestContext();
    // A query builder's update passes only the values it sets (no row before, no columns):
    // the subscriber cannot tell which row changed, nor how.
    const rowless = !entity || (operation === 'update' && (!before || columns.length === 0));
    const problem = !context
      ? 'no request context'
      : rowless
        ? 'no row (a query-builder write? use save/remove)'
        : undefined;
    if (problem) this.refuse(table, operation, problem);
    const captured: Captured = {
      context,
      problem,
      change: {
        table,
        operation,
        row: columnsOf(metadata, entity),
        before: before ? columnsOf(metadata, before) : undefined,
        columns,
        actorKind: context?.actor.kind ?? 'system',
        ...actorOf(context),
      },
    };
    if (runner?.isTransactionActive) {
      const list = this.pending.get(runner) ?? [];
      list.push(captured);
      this.pending.set(runner, list);
    } else {
      // A write outside any transaction (a query builder's): record it on its own connection.
      await this.writer.insertNow(runner.manager, await this.derive([captured], runner.manager));
    }
  }

  /** The events of one transaction's changes, each with the context it happened in. */
  private async derive(captured: Captured[], manager: EntityManager): Promise<AuditRow[]> {
    const tx = captured.map((c) => c.change);
    const look = new Lookup(manager, tx);
    const rows: AuditRow[] = [];
    for (const { change, context, problem: known } of captured) {
      const rule = RULES[change.table]?.[change.operation];
      const drafts = known ? undefined : await rule?.(change, tx, look);
      if (!drafts) {
        const problem =
          known ??
          (rule
            ? `no rule for a change of ${change.columns.join(', ') || 'these columns'}`
            : `no rule for ${change.operation}`);
        if (!known) this.refuse(change.table, change.operation, problem);
        rows.push(
          this.writer.build(
            {
              tag: 'audit:unmapped:change',
              plugin: 'audit',
              userId: (change.row.user_id as string | undefined) ?? null,
              additional: {
                table: change.table,
                operation: change.operation,
                columns: change.columns,
                problem,
              },
            },
            context,
          ),
        );
        continue;
      }
      for (const draft of drafts) {
        rows.push(this.writer.build({ ...draft, plugin: 'core' }, context));
      }
    }
    return rows;
  }

  /** Throws in strict mode (tests); otherwise logs, and the caller records what it can. */
  private refuse(table: string, operation: string, problem: string): void {
    const error = new UnattributedChangeError(table, operation, problem);
    if (this.config.auditStrict) throw error;
    this.logger.error({ table, operation, err: error }, error.message);
  }
}
