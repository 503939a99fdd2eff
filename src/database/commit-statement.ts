import type pg from 'pg';
import { QueryFailedError, type QueryRunner } from 'typeorm';

/** A value {@link runAtCommit} can write into its statement as a literal. */
export type InlineValue = string | number | bigint | boolean | null;

interface Queued {
  sql: string;
  resolve(rows: Record<string, unknown>[]): void;
  reject(error: unknown): void;
}

const queued = new WeakMap<QueryRunner, Queued[]>();
const wrapped = new WeakSet<QueryRunner>();

/**
 * Runs `sql` as the last statement of `runner`'s transaction, sent in one message with its
 * COMMIT: one round trip where a statement and then COMMIT take two. For work that must commit
 * with a change but whose result nobody needs before the commit (the audit plugin's chained
 * insert, called from `beforeTransactionCommit`).
 *
 * Safe whatever comes next: if anything else is sent on the runner first (another subscriber's
 * query), `sql` runs just before it, on its own; on ROLLBACK it never runs. If `sql` fails,
 * PostgreSQL skips the COMMIT sent with it and the COMMIT throws, so the caller rolls the
 * transaction back: a change never commits without it.
 *
 * `$1`, `$2`… in `sql` are replaced by `params` as literals (the message uses the simple
 * protocol, which takes no parameters), so `sql` must not contain `$n` otherwise. Resolves
 * with the statement's rows once it has run. Statements sent this way are not logged nor
 * broadcast as queries to subscribers. Statements queued on one transaction run in order.
 */
export function runAtCommit(
  runner: QueryRunner,
  sql: string,
  params: InlineValue[] = [],
): Promise<Record<string, unknown>[]> {
  if (!runner.isTransactionActive) throw new Error('runAtCommit: no transaction is active');
  wrap(runner);
  const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
    const index = Number(n) - 1;
    if (index >= params.length) throw new Error(`runAtCommit: no value for $${n}`);
    return literal(params[index]);
  });
  return new Promise((resolve, reject) => {
    const list = queued.get(runner) ?? [];
    list.push({ sql: text, resolve, reject });
    queued.set(runner, list);
  });
}

function literal(value: InlineValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'string') {
    // As pg.escapeLiteral writes it (E'…' when there is a backslash), without its loop over
    // every character: the audit plugin sends a kilobyte of JSON with every audited COMMIT.
    const quoted = `'${value.replace(/'/g, "''")}'`;
    return value.includes('\\') ? ` E${quoted.replace(/\\/g, '\\\\')}` : quoted;
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error(`runAtCommit: ${value} is not a literal`);
  }
  return String(value);
}

/**
 * Takes over `runner.query` for this runner: TypeORM's `commitTransaction` broadcasts
 * `BeforeTransactionCommit`, then sends `query("COMMIT")` (pinned by commit-statement.spec.ts).
 */
function wrap(runner: QueryRunner): void {
  if (wrapped.has(runner)) return;
  wrapped.add(runner);
  const original = runner.query.bind(runner) as (...args: unknown[]) => Promise<unknown>;
  runner.query = async function query(text: string, ...rest: unknown[]): Promise<never> {
    const list = queued.get(runner);
    if (list) {
      queued.delete(runner);
      if (text === 'COMMIT') return (await commitWith(runner, list)) as never;
      if (/^ROLLBACK\b/i.test(text)) {
        for (const next of list) next.reject(new Error('runAtCommit: the transaction rolled back'));
      } else {
        for (const [i, next] of list.entries()) {
          try {
            next.resolve((await original(next.sql)) as Record<string, unknown>[]);
          } catch (error) {
            for (const skipped of list.slice(i)) skipped.reject(error);
            throw error;
          }
        }
      }
    }
    return (await original(text, ...rest)) as never;
  } as QueryRunner['query'];
}

async function commitWith(runner: QueryRunner, list: Queued[]): Promise<undefined> {
  const connection = (await runner.connect()) as pg.ClientBase;
  const text = [...list.map((q) => q.sql), 'COMMIT'].join(';\n');
  let results: pg.QueryResult[];
  try {
    results = (await connection.query(text)) as unknown as pg.QueryResult[];
  } catch (error) {
    for (const next of list) next.reject(error);
    throw new QueryFailedError(text, [], error as Error);
  }
  for (const [i, next] of list.entries()) next.resolve(results[i].rows);
  return undefined;
}
