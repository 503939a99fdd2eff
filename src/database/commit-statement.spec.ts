import type pg from 'pg';
import type {
  DataSource,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
} from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/test-database.js';
import { runAtCommit } from './commit-statement.js';
import { createDataSource } from './data-source.js';

const HOSTILE = "it's \\ a back\\\\slash, $1, '' quotes, ünïcode 🙂,\nnew line";

describe('runAtCommit: a statement sent with its COMMIT', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  /** What the next commit queues from `beforeTransactionCommit`, as the audit plugin does. */
  let atCommit: ((runner: QueryRunner) => void) | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = createDataSource(db.target, { entities: [], migrations: [] });
    await dataSource.initialize();
    const subscriber: EntitySubscriberInterface = {
      beforeTransactionCommit(event: TransactionCommitEvent) {
        atCommit?.(event.queryRunner);
        atCommit = undefined;
      },
    };
    dataSource.subscribers.push(subscriber);
    await dataSource.query('CREATE TABLE notes (v text NOT NULL)');
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.dispose();
  });
  beforeEach(() => dataSource.query('DELETE FROM notes'));

  const notes = async (): Promise<string[]> =>
    (await dataSource.query('SELECT v FROM notes ORDER BY v')).map((r: { v: string }) => r.v);

  it('sends the statement and COMMIT in one message, and both commit', async () => {
    let result: Promise<Record<string, unknown>[]> | undefined;
    const sent: string[] = [];
    await dataSource.transaction(async (tx) => {
      await tx.query(`INSERT INTO notes VALUES ('change')`);
      const connection = (await tx.queryRunner!.connect()) as pg.ClientBase;
      const query = connection.query.bind(connection) as (...a: unknown[]) => unknown;
      connection.query = ((text: unknown, ...rest: unknown[]) => {
        sent.push(typeof text === 'string' ? text : String((text as { text: string }).text));
        return query(text, ...rest);
      }) as typeof connection.query;
      atCommit = (runner) => {
        result = runAtCommit(runner, 'INSERT INTO notes VALUES ($1), ($2) RETURNING v', [
          HOSTILE,
          "it's plain",
        ]);
      };
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/;\nCOMMIT$/);
    await expect(result).resolves.toEqual([{ v: HOSTILE }, { v: "it's plain" }]);
    expect(await notes()).toEqual(['change', HOSTILE, "it's plain"].sort());
  });

  it('a failing statement fails the COMMIT: the change rolls back with it', async () => {
    let result: Promise<unknown> | undefined;
    await expect(
      dataSource.transaction(async (tx) => {
        await tx.query(`INSERT INTO notes VALUES ('change')`);
        atCommit = (runner) => {
          result = runAtCommit(runner, 'INSERT INTO notes VALUES (NULL)');
          result.catch(() => undefined);
        };
      }),
    ).rejects.toThrow(/null value/);
    await expect(result).rejects.toThrow(/null value/);
    expect(await notes()).toEqual([]);
    // The connection is usable again (the pool got it back out of the failed transaction).
    await dataSource.transaction((tx) => tx.query(`INSERT INTO notes VALUES ('after')`));
    expect(await notes()).toEqual(['after']);
  });

  it('runs first, on its own, when anything else is sent before COMMIT', async () => {
    let seen: string[] = [];
    await dataSource.transaction(async (tx) => {
      const runner = tx.queryRunner!;
      void runAtCommit(runner, `INSERT INTO notes VALUES ('queued')`);
      seen = (await tx.query('SELECT v FROM notes')).map((r: { v: string }) => r.v);
    });
    expect(seen).toEqual(['queued']);
    expect(await notes()).toEqual(['queued']);
  });

  it('never runs when the transaction rolls back', async () => {
    let result: Promise<unknown> | undefined;
    await expect(
      dataSource.transaction(async (tx) => {
        await tx.query(`INSERT INTO notes VALUES ('change')`);
        result = runAtCommit(tx.queryRunner!, `INSERT INTO notes VALUES ('queued')`);
        result.catch(() => undefined);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await expect(result).rejects.toThrow(/rolled back/);
    expect(await notes()).toEqual([]);
  });

  it('runs several queued statements in order, and refuses outside a transaction or without a value', async () => {
    const runner = dataSource.createQueryRunner();
    try {
      expect(() => runAtCommit(runner, 'SELECT 1')).toThrow(/no transaction/);
      await runner.startTransaction();
      expect(() => runAtCommit(runner, 'SELECT $2', ['a'])).toThrow(/no value for \$2/);
      const first = runAtCommit(runner, `INSERT INTO notes VALUES ('1') RETURNING v`);
      const second = runAtCommit(
        runner,
        `INSERT INTO notes SELECT count(*) || '' FROM notes RETURNING v`,
      );
      await runner.commitTransaction();
      await expect(first).resolves.toEqual([{ v: '1' }]);
      await expect(second).resolves.toEqual([{ v: '1' }]);
    } finally {
      await runner.release();
    }
    expect(await notes()).toEqual(['1', '1']);
  });
});
