import { createPluginTestApp, type TestApp } from '../../test/helpers/test-app.js';
import { eventsPerDay, findEvents, type EventFilter } from './audit.queries.js';
import { AuditSearch } from './audit.search.js';

/**
 * The list and chart queries against a log made directly in SQL: 40 days, a few tags and
 * actors, ids in time order. Each answer is compared with the plain query it stands for.
 */
describe('audit queries', () => {
  let t: TestApp;
  const DAY = 86_400_000;
  const today = Date.UTC(2026, 10, 26);

  beforeAll(async () => {
    // The search copy catches up only when a test says (no timer of its own or the streaming's).
    t = await createPluginTestApp('audit', { options: { searchPollMs: '0', streamPollMs: '0' } });
    // 40 days back to today, 12 events a day; every third by bob, every fourth a login failure.
    await t.dataSource.query(
      `INSERT INTO audit_events (occurred_at, tag, actor_kind, actor_name, additional, plugin)
       SELECT to_timestamp($1::float8 / 1000) - make_interval(days => 39 - (i / 12))
                + make_interval(mins => (i % 12) * 60),
              CASE WHEN i % 4 = 0 THEN 'account:login:failure' ELSE 'account:login:success' END,
              'user', CASE WHEN i % 3 = 0 THEN 'bob' ELSE 'alice' END, '{}', 'core'
         FROM generate_series(0, 479) AS i`,
      [today],
    );
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const m = () => t.dataSource.manager;

  async function countsByDay(where = 'TRUE', params: unknown[] = []) {
    const rows: Array<{ day: string; count: number }> = await t.dataSource.query(
      `SELECT to_char(date_trunc('day', occurred_at, 'UTC'), 'YYYY-MM-DD') AS day,
              count(*)::int AS count
         FROM audit_events WHERE ${where} GROUP BY 1 ORDER BY 1`,
      params,
    );
    return rows;
  }

  it('charts the whole log, some tags or whole days from the daily counts, as counting would', async () => {
    const charts = async () => {
      const all = await countsByDay();
      expect(await eventsPerDay(m(), {}, 30)).toEqual(all.slice(-30));
      const failures = await countsByDay(`tag = 'account:login:failure'`);
      expect(await eventsPerDay(m(), { tags: ['account:login:failure'] }, 30)).toEqual(
        failures.slice(-30),
      );
      const since = new Date(today - 10 * DAY);
      const until = new Date(today - 5 * DAY);
      expect(await eventsPerDay(m(), { since, until }, 30)).toEqual(
        await countsByDay('occurred_at >= $1 AND occurred_at < $2', [since, until]),
      );
    };
    const counted = async () =>
      (await t.dataSource.query(`SELECT sum(events)::int AS n FROM audit_daily_counts`))[0].n;
    // Not yet counted (the events past the watermark are counted by the chart itself)…
    expect(await counted()).toBeNull();
    await charts();
    // …then counted by the search copy's job: a plugin's own insert shows, and so does a deletion.
    await t.app.get(AuditSearch).catchUp();
    expect(await counted()).toBe(480);
    await charts();
    await t.dataSource.query(`DELETE FROM audit_events WHERE occurred_at < $1`, [
      new Date(today - 35 * DAY),
    ]);
    expect(await eventsPerDay(m(), {}, 60)).toEqual(await countsByDay());
  });

  it('charts a narrower filter by counting its events up to the newest one', async () => {
    const bob = await eventsPerDay(m(), { actorName: 'bob' }, 7);
    expect(bob).toEqual((await countsByDay(`actor_name = 'bob'`)).slice(-7));
    // A time that is not midnight cannot use whole days: it counts events as well.
    const since = new Date(today - 3 * DAY + 6 * 3_600_000);
    expect(await eventsPerDay(m(), { since }, 30)).toEqual(
      await countsByDay('occurred_at >= $1', [since]),
    );
  });

  it('pages by id as a number, in a narrow date range as in the whole log', async () => {
    const ids = async (filter: EventFilter, before?: string, after?: string) =>
      (await findEvents(m(), filter, { before, after, size: 25 })).events.map((e) => e.id);
    const expected = async (where: string, params: unknown[]) =>
      (
        await t.dataSource.query(
          `SELECT id::text FROM audit_events WHERE ${where} ORDER BY audit_events.id DESC`,
          params,
        )
      ).map((r: { id: string }) => r.id);

    // Ids 1..N: "9" sorts after "10" as text, never as a number.
    const whole = await expected('TRUE', []);
    const first = await ids({});
    expect(first).toEqual(whole.slice(0, 25));
    expect(await ids({}, first[24])).toEqual(whole.slice(25, 50));

    const since = new Date(today - 20 * DAY);
    const until = new Date(today - 18 * DAY);
    const range = await expected('occurred_at >= $1 AND occurred_at < $2', [since, until]);
    expect(range).toHaveLength(24);
    const page = await findEvents(m(), { since, until }, { size: 10 });
    expect(page.events.map((e) => e.id)).toEqual(range.slice(0, 10));
    expect(page).toMatchObject({ older: true, newer: false });
    const older = await ids({ since, until }, range[9]);
    expect(older).toEqual(range.slice(10, 24));
    // "Newer" from the oldest of the range: ascending, then shown newest first.
    expect(await ids({ since, until }, undefined, range[23])).toEqual(range.slice(0, 23));
  });

  it('charts and pages text, key=value and an IP range, from their indexes or by the key', async () => {
    // After the log above (times never go back along ids), a needle a day for 40 days (a
    // month's chart is then its last 30), from 192.0.2.0/24; then 6,000 events of a common
    // word, more than the planner reads off the trigram index (findEvents walks the key).
    await t.dataSource.query(
      `INSERT INTO audit_events (occurred_at, tag, actor_kind, actor_name, ip, additional, plugin)
       SELECT to_timestamp($1::float8 / 1000) + make_interval(days => i + 1),
              'account:login:failure', 'user', 'carol', ('192.0.2.' || i)::inet,
              jsonb_build_object('reason', 'needle', 'n', i), 'core'
         FROM generate_series(0, 39) AS i`,
      [today],
    );
    await t.dataSource.query(
      `INSERT INTO audit_events (occurred_at, tag, actor_kind, actor_name, additional, plugin)
       SELECT to_timestamp($1::float8 / 1000) + make_interval(days => 41, secs => i),
              'account:login:failure', 'user', 'dave',
              jsonb_build_object('reason', 'haystack ' || i), 'core'
         FROM generate_series(1, 6000) AS i`,
      [today],
    );
    await t.dataSource.query('ANALYZE audit_events');
    const ids = async (filter: EventFilter, before?: string) =>
      (await findEvents(m(), filter, { before, size: 25 })).events.map((e) => e.id);
    const expected = async (where: string) =>
      (
        await t.dataSource.query(
          `SELECT id::text FROM audit_events WHERE ${where} ORDER BY audit_events.id DESC`,
        )
      ).map((r: { id: string }) => r.id);

    for (const [filter, where] of [
      [{ q: 'NEEDLE' }, `additional::text ILIKE '%needle%'`],
      [{ q: 'reason=needle' }, `additional @> '{"reason": "needle"}'`],
      [{ ip: '192.0.2.0/24' }, `ip <<= '192.0.2.0/24'`],
      [{ q: 'haystack 1' }, `additional::text ILIKE '%haystack 1%'`],
      [{ q: 'Haystack' }, `additional::text ILIKE '%haystack%'`],
    ] as Array<[EventFilter, string]>) {
      const all = await expected(where);
      const first = await ids(filter);
      expect(first).toEqual(all.slice(0, 25));
      expect(await ids(filter, first[24])).toEqual(all.slice(25, 50));
      // "Newer" than the 31st: the 25 just above it, shown newest first.
      const newer = await findEvents(m(), filter, { after: all[30], size: 25 });
      expect(newer.events.map((e) => e.id)).toEqual(all.slice(5, 30));
      expect(newer).toMatchObject({ older: true, newer: true });
      expect(await eventsPerDay(m(), filter, 30)).toEqual((await countsByDay(where)).slice(-30));
    }
  });
});
