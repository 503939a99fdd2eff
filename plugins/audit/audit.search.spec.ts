import { runAsSystem } from '../../src/plugin-api/index.js';
import { createPluginTestApp, type TestApp } from '../../test/helpers/test-app.js';
import { adminFilter } from './audit.filters.js';
import {
  eventsAfter,
  eventsPerDay,
  findEvents,
  type EventFilter,
  type StoredEvent,
} from './audit.queries.js';
import { AuditSearch } from './audit.search.js';
import { AuditWriter } from './audit.writer.js';
import { ipKey } from './chain/canonical.js';

/**
 * The admin log's search copy (AuditSearch1796700000000, audit.search.ts): the filters read
 * `audit_event_search` up to its watermark and `audit_events` above it, so every answer is
 * the same whether the copy has caught up, half caught up or not started; the job copies each
 * event once, with its daily count and its outbox rows.
 */
describe('audit search copy', () => {
  let t: TestApp;
  const DAY = 86_400_000;
  const today = Date.UTC(2026, 10, 26);
  const secret = () => t.config.secret;

  beforeAll(async () => {
    // The copy catches up only when a test says so.
    t = await createPluginTestApp('audit', {
      options: { searchPollMs: '0', searchDelayMs: '60000', streamPollMs: '0' },
    });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const sql = (text: string, params: unknown[] = []) => t.dataSource.query(text, params);
  const watermark = async () =>
    Number((await sql('SELECT watermark FROM audit_search_state'))[0].watermark);

  /**
   * Events `first`…`first + n - 1`, one every 4 minutes from ten days ago (times rise with ids,
   * as the writer makes them), over a few tags, actors, projects and IPs.
   */
  async function seed(first: number, n: number): Promise<void> {
    await sql(
      `INSERT INTO audit_events (occurred_at, tag, actor_id, user_id, actor_name, actor_kind,
           project_name, ip, additional, plugin)
       SELECT to_timestamp($3 / 1000.0) - interval '10 days' + make_interval(mins => i * 4),
              (ARRAY['project:release:add', 'account:login:success', 'project:role:add'])[1 + i % 3],
              CASE WHEN i % 4 = 0 THEN 'a1b2c3d4-0000-4000-8000-00000000000b'::uuid
                   ELSE 'a1b2c3d4-0000-4000-8000-00000000000a'::uuid END,
              CASE WHEN i % 4 = 0 THEN 'a1b2c3d4-0000-4000-8000-00000000000b'::uuid END,
              CASE WHEN i % 4 = 0 THEN 'bob' ELSE 'alice' END, 'user',
              'proj-' || (i % 5),
              ('10.0.' || (i % 2) || '.' || (i % 7))::inet,
              jsonb_build_object('version', '1.' || i, 'note', CASE WHEN i % 6 = 0 THEN 'Spam wave' ELSE 'ok' END),
              'core'
         FROM generate_series($1::int, $1::int + $2::int - 1) AS i`,
      [first, n, today],
    );
    // Each IP's keyed hash, as the writer stores it: what the exact-IP filter matches.
    for (let a = 0; a < 2; a++) {
      for (let b = 0; b < 7; b++) {
        const ip = `10.0.${a}.${b}`;
        await sql('UPDATE audit_events SET ip_hash = $1 WHERE ip = $2 AND ip_hash IS NULL', [
          ipKey(secret(), ip),
          ip,
        ]);
      }
    }
  }

  /** Every page of `filter`, newest first, through findEvents' keyset links. */
  async function allPages(filter: EventFilter): Promise<string[]> {
    const ids: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await findEvents(t.dataSource.manager, filter, { size: 7, before });
      ids.push(...page.events.map((e: StoredEvent) => e.id));
      if (!page.older) return ids;
      before = page.events[page.events.length - 1].id;
    }
  }

  /** The same filters as plain SQL over `audit_events` alone: what every answer must be. */
  const cases: Array<[string, Record<string, string>, string, unknown[]]> = [
    ['a tag', { tag: 'project:release:add' }, `tag = 'project:release:add'`, []],
    ['an actor', { actor: 'bob' }, `actor_name = 'bob'`, []],
    ['a project name', { project: 'proj-3' }, `project_name = 'proj-3'`, []],
    ['a CIDR', { ip: '10.0.1.0/24' }, `ip <<= '10.0.1.0/24'`, []],
    ['an exact IP', { ip: '10.0.0.4' }, `ip = '10.0.0.4'`, []],
    ['free text', { q: 'spam WAVE' }, `additional::text ILIKE '%spam wave%'`, []],
    ['key=value', { q: 'version=1.12' }, `additional->>'version' = '1.12'`, []],
    ['a user by name', { user: 'bob' }, `user_id = 'a1b2c3d4-0000-4000-8000-00000000000b'`, []],
    [
      'a tag and a date',
      { tag: 'account:login:success', since: '2026-11-17' },
      `tag = 'account:login:success' AND occurred_at >= '2026-11-17T00:00:00Z'`,
      [],
    ],
  ];

  async function expectExact(): Promise<void> {
    for (const [, input, where] of cases) {
      const filter = await adminFilter(t.dataSource.manager, input, secret());
      const want: string[] = (
        await sql(
          `SELECT id::text AS id FROM audit_events WHERE ${where} ORDER BY audit_events.id DESC`,
        )
      ).map((r: { id: string }) => r.id);
      expect({ input, ids: await allPages(filter) }).toEqual({ input, ids: want });
      const exported = await eventsAfter(t.dataSource.manager, filter, '0', 10_000);
      expect({ input, ids: exported.map((e) => e.id) }).toEqual({
        input,
        ids: [...want].reverse(),
      });
      const days: Array<{ day: string; count: number }> = await sql(
        `SELECT to_char(date_trunc('day', occurred_at, 'UTC'), 'YYYY-MM-DD') AS day, count(*)::int AS count
           FROM audit_events WHERE ${where} GROUP BY 1 ORDER BY 1`,
      );
      expect({ input, days: await eventsPerDay(t.dataSource.manager, filter, 30) }).toEqual({
        input,
        days,
      });
    }
    // The whole log's chart: the daily counts up to the watermark, counting above it.
    const all: Array<{ day: string; count: number }> = await sql(
      `SELECT to_char(date_trunc('day', occurred_at, 'UTC'), 'YYYY-MM-DD') AS day, count(*)::int AS count
         FROM audit_events GROUP BY 1 ORDER BY 1`,
    );
    expect(await eventsPerDay(t.dataSource.manager, {}, 30)).toEqual(all);
  }

  it('answers every admin filter exactly before, during and after the copy catches up', async () => {
    await seed(1, 150);
    expect(await watermark()).toBe(0);
    await expectExact(); // all of it above the watermark
    await sql('SELECT audit_search_catch_up(40)');
    expect(await watermark()).toBe(40);
    await expectExact(); // split at 40
    await t.app.get(AuditSearch).catchUp();
    const last = Number((await sql('SELECT max(id) AS n FROM audit_events'))[0].n);
    expect(await watermark()).toBe(last);
    await expectExact(); // all of it copied
    await seed(151, 30); // and more since
    await expectExact();
  });

  it('copies each event once, counted once and queued once per destination, however many run', async () => {
    await t.app.get(AuditSearch).catchUp(); // the events before the destinations
    await sql(
      `INSERT INTO audit_stream_destinations (name, kind, target, tag_prefixes)
       VALUES ('all', 'file', 'all.jsonl', '{}'), ('releases', 'file', 'r.jsonl', '{project:release:}')`,
    );
    const from = await watermark();
    await seed(1000, 60);
    // Batches of 7 from several callers at once: the state's row lock takes them in turn.
    const batches = async () => {
      while (Number((await sql('SELECT audit_search_catch_up(7) AS n'))[0].n) > 0);
    };
    await Promise.all([batches(), batches(), batches()]);
    const [copied] = await sql(
      `SELECT (SELECT count(*) FROM audit_event_search)::int AS search,
              (SELECT count(*) FROM audit_events)::int AS events,
              (SELECT sum(events) FROM audit_daily_counts)::int AS counted`,
    );
    expect(copied).toEqual({
      search: copied.events,
      events: copied.events,
      counted: copied.events,
    });
    const queued: Array<{ name: string; n: number; distinct: number }> = await sql(
      `SELECT d.name, count(*)::int AS n, count(DISTINCT o.event_id)::int AS distinct
         FROM audit_outbox o JOIN audit_stream_destinations d ON d.id = o.destination_id
        WHERE o.event_id > $1 GROUP BY d.name ORDER BY d.name`,
      [from],
    );
    // Events 1000…1059: a third of them (i % 3 = 0) are releases.
    expect(queued).toEqual([
      { name: 'all', n: 60, distinct: 60 },
      { name: 'releases', n: 20, distinct: 20 },
    ]);
    await sql('DELETE FROM audit_outbox');
    await sql('DELETE FROM audit_stream_destinations');
  });

  it('retention takes off the counts only what they hold, and the copies with their events', async () => {
    await t.app.get(AuditSearch).catchUp();
    await seed(2000, 30); // not copied yet
    const cutoff = new Date(today - 8 * DAY); // the first seeds' events
    await sql('DELETE FROM audit_events WHERE occurred_at < $1', [cutoff]);
    await t.app.get(AuditSearch).catchUp();
    const [state] = await sql(
      `SELECT (SELECT count(*) FROM audit_event_search WHERE occurred_at < $1)::int AS old,
              (SELECT sum(events) FROM audit_daily_counts)::int AS counted,
              (SELECT count(*) FROM audit_events)::int AS events`,
      [cutoff],
    );
    expect(state).toEqual({ old: 0, counted: state.events, events: state.events });
    await expectExact();
  });

  it('a catch-up asked for while one runs copies what committed before it was asked', async () => {
    const search = t.app.get(AuditSearch);
    await seed(3000, 40);
    const first = search.catchUp();
    await seed(3040, 10); // while the first round may still run
    const second = search.catchUp();
    await Promise.all([first, second]);
    const [{ last }] = await sql('SELECT max(id)::text AS last FROM audit_events');
    expect(String(await watermark())).toBe(last);
  });

  it('catches up by itself a moment after an audited commit', async () => {
    const app = await createPluginTestApp('audit', {
      options: { searchPollMs: '0', searchDelayMs: '20', streamPollMs: '0' },
    });
    try {
      await runAsSystem('test', () =>
        app.app.get(AuditWriter).record({ tag: 'admin:audit:export', plugin: 'core' }),
      );
      const [{ last }] = await app.dataSource.query(
        'SELECT max(id)::text AS last FROM audit_events',
      );
      const deadline = Date.now() + 10_000;
      let mark = '0';
      while (mark !== last && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        [{ watermark: mark }] = await app.dataSource.query(
          'SELECT watermark::text AS watermark FROM audit_search_state',
        );
      }
      expect(mark).toBe(last);
    } finally {
      await app.close();
    }
  });
});
