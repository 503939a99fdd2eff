import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { LOGGER, type Logger } from '../../src/plugin-api/index.js';
import { createPluginTestApp, type TestApp } from '../../test/helpers/test-app.js';
import { AuditModule } from './audit.module.js';
import { eventsAfter, findEvents } from './audit.queries.js';
import { AuditSearch } from './audit.search.js';
import {
  AuditFreeText1796200000000,
  FREE_TEXT_INDEX,
} from './migrations/1796200000000-AuditFreeText.js';
import { SEARCH_FREE_TEXT_INDEX } from './migrations/1796700000000-AuditSearch.js';

/**
 * The admin log's free text (`q` without `=`): a case-insensitive substring of the event's
 * `additional` as jsonb text, answered through the pg_trgm index of the search copy on both
 * databases (the embedded one loads the extension; the CI server runs as superuser, so the
 * migration makes it).
 */
describe('audit free-text filter', () => {
  let t: TestApp;
  const texts = [
    { reason: 'spam wave 7' },
    { reason: 'Spam Wave 70' },
    { reason: 'SPAM WAVE 7' },
    { reason: 'spam  wave 7' },
    { reason: 'ham wave 7' },
    { note: '100% done_now' },
    { note: '100x done-now' },
    { path: 'C:\\dir\\file' },
    { note: 'ab' },
    { filename: 'pkg_12-3.0-py3-none-any.whl', version: '3.0' },
  ];

  beforeAll(async () => {
    t = await createPluginTestApp('audit');
    // Each text among 200 filler events, so a wrong match or a missed one shows.
    await t.dataSource.query(
      `INSERT INTO audit_events (occurred_at, tag, actor_kind, actor_name, additional, plugin)
       SELECT now() - make_interval(mins => 1000 - i), 'account:login:success', 'user',
              'user' || i,
              CASE WHEN i % 20 = 0 THEN ($1::jsonb ->> (i / 20 - 1))::jsonb
                   ELSE jsonb_build_object('method', 'none', 'n', i) END,
              'core'
         FROM generate_series(1, 200) AS i`,
      [JSON.stringify(texts.map((x) => JSON.stringify(x)))],
    );
    // Into the search copy, whose index answers (audit.search.spec.ts: also exact before).
    await t.app.get(AuditSearch).catchUp();
    await t.dataSource.query('ANALYZE audit_events');
    await t.dataSource.query('ANALYZE audit_event_search');
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('has the trigram index over the very expression the filter uses', async () => {
    const rows: Array<{ indexdef: string }> = await t.dataSource.query(
      `SELECT indexdef FROM pg_indexes WHERE tablename = 'audit_event_search' AND indexname = $1`,
      [SEARCH_FREE_TEXT_INDEX],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].indexdef).toMatch(/USING gin \(\(\(additional\)::text\) (\w+\.)?gin_trgm_ops\)/);
  });

  /** Runs `work` with only bitmap scans allowed, so the filter can only be read off an index. */
  async function indexOnly<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return t.dataSource.transaction(async (m) => {
      await m.query('SET LOCAL enable_seqscan = off');
      await m.query('SET LOCAL enable_indexscan = off');
      await m.query('SET LOCAL enable_indexonlyscan = off');
      return work(m);
    });
  }

  /** The ids whose `additional` text contains `q`, ignoring case: computed here, not in SQL. */
  async function expected(q: string): Promise<string[]> {
    const rows: Array<{ id: string; text: string }> = await t.dataSource.query(
      `SELECT id::text AS id, additional::text AS text FROM audit_events
        ORDER BY audit_events.id DESC`,
    );
    return rows.filter((r) => r.text.toLowerCase().includes(q.toLowerCase())).map((r) => r.id);
  }

  it.each([
    ['spam wave 7', 3],
    ['SPAM wave', 3],
    ['spam  wave', 1],
    ['wave 70', 1],
    ['100%', 1],
    ['0% done_', 1],
    ['done_now', 1],
    ['_', 2],
    ['%', 1],
    ['\\dir\\', 1],
    ['ab', 1],
    ['py3-none', 1],
    ['"version": "3.0"', 1],
    ['no such text', 0],
  ])('finds exactly the events whose text contains %j, through the index', async (q, n) => {
    const want = await expected(q);
    expect(want).toHaveLength(n);
    const { ids, plans } = await indexOnly(async (m) => {
      // The statements that test the text (not the planner's estimate, nor the settings, nor
      // the page's rows fetched by id once the matches are known).
      const queries: Array<[string, unknown[]]> = [];
      const spy = (on: EntityManager): EntityManager =>
        Object.create(on, {
          query: {
            value: (sql: string, params: unknown[]) => {
              if (sql.includes('ILIKE') && !sql.startsWith('EXPLAIN')) queries.push([sql, params]);
              return on.query(sql, params);
            },
          },
          transaction: {
            value: (work: (tx: EntityManager) => Promise<unknown>) =>
              on.transaction((tx) => work(spy(tx))),
          },
        }) as EntityManager;
      const page = await findEvents(spy(m), { q }, { size: 50 });
      const plans: string[] = [];
      for (const [sql, params] of queries) {
        const [{ 'QUERY PLAN': plan }] = await m.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
        plans.push(JSON.stringify(plan));
      }
      return { ids: page.events.map((e) => e.id), plans };
    });
    expect(ids).toEqual(want);
    expect(plans).toHaveLength(1);
    expect(plans[0]).toContain(SEARCH_FREE_TEXT_INDEX);
    // The export reads the same filter.
    expect((await eventsAfter(t.dataSource.manager, { q }, '0', 500)).map((e) => e.id)).toEqual(
      [...want].reverse(),
    );
  });

  it('without the right to create pg_trgm, the migration leaves the index out and the filter scans', async () => {
    const want = await expected('spam wave 7');
    const runner = t.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query(`DROP INDEX "${SEARCH_FREE_TEXT_INDEX}"`);
      await runner.query('DROP EXTENSION pg_trgm');
      // A role that is no superuser and lacks CREATE on the database: pg_trgm is out of reach.
      const role = `larder_no_trgm_${randomBytes(4).toString('hex')}`;
      await runner.query(`CREATE ROLE ${role}`);
      await runner.query(`SET LOCAL ROLE ${role}`);
      await expect(new AuditFreeText1796200000000().up(runner)).resolves.toBeUndefined();
      await runner.query('RESET ROLE');
      expect(
        await runner.query(`SELECT 1 FROM pg_indexes WHERE indexname = $1`, [FREE_TEXT_INDEX]),
      ).toEqual([]);
      const page = await findEvents(runner.manager, { q: 'spam wave 7' }, { size: 50 });
      expect(page.events.map((e) => e.id)).toEqual(want);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  });

  it('when CREATE EXTENSION fails all the same, the migration leaves the index out and its transaction usable', async () => {
    const runner = t.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query(`DROP INDEX "${SEARCH_FREE_TEXT_INDEX}"`);
      await runner.query('DROP EXTENSION pg_trgm');
      // May create trusted extensions (CREATE on the database), but has no schema to put one in.
      const role = `larder_no_schema_${randomBytes(4).toString('hex')}`;
      await runner.query(`CREATE ROLE ${role}`);
      const [{ db }] = await runner.query('SELECT current_database() AS db');
      await runner.query(`GRANT CREATE ON DATABASE "${db}" TO ${role}`);
      await runner.query(`SET LOCAL ROLE ${role}`);
      await runner.query('SET LOCAL search_path = no_such_schema');
      await expect(new AuditFreeText1796200000000().up(runner)).resolves.toBeUndefined();
      await runner.query('RESET ROLE');
      await runner.query('RESET search_path');
      expect(
        await runner.query(`SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'`),
      ).toEqual([]);
      expect(
        await runner.query(`SELECT 1 FROM pg_indexes WHERE indexname = $1`, [FREE_TEXT_INDEX]),
      ).toEqual([]);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  });

  it('warns at start while the index is missing, and only then', async () => {
    const logger = t.app.get<Logger>(LOGGER);
    const warn = jest.spyOn(logger, 'warn');
    try {
      await t.app.get(AuditModule).onApplicationBootstrap();
      expect(warn).not.toHaveBeenCalled();
      await t.dataSource.query(`DROP INDEX "${SEARCH_FREE_TEXT_INDEX}"`);
      await t.app.get(AuditModule).onApplicationBootstrap();
      expect(warn).toHaveBeenCalledWith(
        { index: SEARCH_FREE_TEXT_INDEX },
        expect.stringContaining('docs/operating.md'),
      );
    } finally {
      warn.mockRestore();
    }
  });
});
