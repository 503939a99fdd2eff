import {
  basicAuth,
  createToken,
  createUser,
  login,
  type TestUser,
} from '../../../test/helpers/factories.js';
import { createProject, grantRole } from '../../../test/helpers/projects.js';
import { createPluginTestApp, type TestApp } from '../../../test/helpers/test-app.js';
import { AUDIT_API_PARAMETERS } from './openapi.js';

interface ApiEvent {
  id: number;
  tag: string;
  description: string;
  project_name: string | null;
  user_id: string | null;
  ip: string | null;
  request_id: string | null;
}

describe('GET /api/v1/audit/events', () => {
  let t: TestApp;
  let admin: TestUser;
  let owner: TestUser;
  let other: TestUser;
  let ownerToken: string;
  let scopedToken: string;
  let adminToken: string;
  let otherToken: string;

  /** One event, written as the subscriber would (the API only reads). */
  async function event(
    tag: string,
    fields: {
      user?: string;
      project?: { id: string; name: string };
      actor?: TestUser;
      ip?: string;
    },
  ) {
    await t.dataSource.query(
      `INSERT INTO audit_events (occurred_at, tag, actor_id, actor_name, actor_kind, user_id, project_id,
                                 project_name, ip, request_id, additional, plugin)
       VALUES (now(), $1, $2, $3, $4, $5, $6, $7, $8::inet, 'req-1', '{"version": "1.0"}', 'core')`,
      [
        tag,
        fields.actor?.user.id ?? null,
        fields.actor?.username ?? null,
        fields.actor?.user.isAdmin ? 'admin' : fields.actor ? 'user' : 'system',
        fields.user ?? null,
        fields.project?.id ?? null,
        fields.project?.name ?? null,
        fields.ip ?? '192.0.2.1',
      ],
    );
  }

  const list = (token: string | null, query: Record<string, string> = {}) => {
    const req = t.http().get('/api/v1/audit/events').query(query);
    return token ? req.set('Authorization', basicAuth(token)) : req;
  };
  const tagsAndProjects = (events: ApiEvent[]) =>
    events.map((e) => `${e.tag} ${e.project_name ?? '-'}`).sort();

  beforeAll(async () => {
    t = await createPluginTestApp('audit');
    admin = await createUser(t, { admin: true });
    owner = await createUser(t);
    other = await createUser(t);
    const mine = await createProject(t, 'mine', owner.user);
    const mine2 = await createProject(t, 'mine-two', owner.user);
    const theirs = await createProject(t, 'theirs', other.user);
    // owner is only a Maintainer of maintained: its events are not theirs to read.
    const maintained = await grantRole(t, 'maintained', owner.user, 'Maintainer');
    await t.dataSource.query('DELETE FROM audit_events');
    await event('project:release:add', { project: mine, actor: owner });
    await event('project:release:add', { project: mine2, actor: owner });
    await event('project:release:add', { project: theirs, actor: other });
    await event('project:release:add', { project: maintained, actor: owner });
    await event('account:login:success', { user: owner.user.id, actor: owner, ip: '198.51.100.1' });
    // An administrator acted on owner's account: its IP is redacted to owner.
    await event('account:password:reset', { user: owner.user.id, actor: admin, ip: '203.0.113.9' });
    await event('account:login:success', { user: other.user.id, actor: other });
    // Shown in the admin log only, even though it is about owner's account.
    await event('admin:audit:export', { user: owner.user.id, actor: admin });
    ownerToken = (await createToken(t, owner.user)).value;
    scopedToken = (await createToken(t, owner.user, { projects: ['mine'] })).value;
    otherToken = (await createToken(t, other.user)).value;
    adminToken = (await createToken(t, admin.user)).value;
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('shows an administrator every event, with the request ids', async () => {
    const res = await list(adminToken).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    // Creating the tokens recorded events too; the seeded eight are among them.
    const seeded = (res.body.events as ApiEvent[]).filter((e) => e.request_id === 'req-1');
    expect(seeded).toHaveLength(8);
    expect(seeded[0].id).toBeGreaterThan(seeded[1].id); // newest first
  });

  it("shows an owner's account token its projects' and its own account's events, nobody else's", async () => {
    const events: ApiEvent[] = (await list(ownerToken).expect(200)).body.events;
    expect(events.every((e) => e.user_id === null || e.user_id === owner.user.id)).toBe(true);
    expect(tagsAndProjects(events.filter((e) => e.request_id === null))).toEqual(
      expect.arrayContaining([
        'account:login:success -',
        'account:password:reset -',
        'project:release:add mine',
        'project:release:add mine-two',
      ]),
    );
    const names = events.map((e) => e.project_name);
    expect(names).not.toContain('theirs');
    expect(names).not.toContain('maintained');
    expect(events.map((e) => e.tag)).not.toContain('admin:audit:export');
    // Raw fields follow the page's redaction: someone else's action on the account hides the IP.
    const reset = events.find((e) => e.tag === 'account:password:reset')!;
    expect(reset.ip).toBeNull();
    expect(events.find((e) => e.tag === 'account:login:success')!.ip).toBe('198.51.100.1');
    expect(reset.description).toBe('Password reset');
  });

  it('limits a project-scoped token to its projects, without the account history', async () => {
    const events: ApiEvent[] = (await list(scopedToken).expect(200)).body.events;
    expect(tagsAndProjects(events)).toEqual([
      'project:api_token:added mine',
      'project:release:add mine',
    ]);
  });

  it("never shows another user's account or projects, whatever the filters ask", async () => {
    const byProject = await list(otherToken, { project: 'mine' }).expect(200);
    expect(byProject.body.events).toEqual([]);
    const byUser = await list(otherToken, { user: owner.user.id }).expect(200);
    expect(byUser.body.events).toEqual([]);
    const own: ApiEvent[] = (await list(otherToken).expect(200)).body.events;
    expect(tagsAndProjects(own.filter((e) => !e.tag.startsWith('account:api_token:')))).toEqual([
      'account:login:success -',
      'project:release:add theirs',
    ]);
  });

  it('applies the admin filters', async () => {
    const res = await list(adminToken, { tag: 'project:release:add', project: 'theirs' });
    expect(tagsAndProjects(res.body.events)).toEqual(['project:release:add theirs']);
    const byIp = await list(adminToken, { ip: '198.51.100.0/24' }).expect(200);
    expect(byIp.body.events).toHaveLength(1);
  });

  it('pages with an opaque cursor until `next` is null, each event once', async () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await list(adminToken, { limit: '3', ...(cursor ? { cursor } : {}) }).expect(200);
      expect(res.body.events.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.events.map((e: ApiEvent) => e.id));
      cursor = res.body.next ?? undefined;
      pages++;
    } while (cursor && pages < 50);
    const all = (await list(adminToken, { limit: '500' }).expect(200)).body;
    expect(all.next).toBeNull();
    expect(seen).toEqual(all.events.map((e: ApiEvent) => e.id));
    expect(pages).toBe(Math.ceil(seen.length / 3));
  });

  it('answers 401 without credentials or with a bad token, and a session works too', async () => {
    const none = await list(null).expect(401);
    expect(none.headers['www-authenticate']).toBe('Basic realm="larder"');
    expect(none.body.message).toContain('API token');
    await list('larder-0000000000000000-nope').expect(401);
    const session = await login(t, owner);
    const res = await session.agent.get('/api/v1/audit/events').expect(200);
    expect(res.body.events.length).toBeGreaterThan(0);
  });

  it('answers 400 naming a bad filter, limit or cursor, never 500', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ limit: '0' }, 'limit must be a whole number from 1 to 500'],
      [{ limit: '501' }, 'limit must be a whole number from 1 to 500'],
      [{ limit: 'ten' }, 'limit must be a whole number from 1 to 500'],
      [{ cursor: 'bm90LWEtY3Vyc29y' }, 'cursor must be a `next` value this API returned'],
      [{ cursor: '../../etc' }, 'cursor must be a `next` value this API returned'],
      [{ ip: '300.1.1.1' }, '"300.1.1.1" is not an IP address or CIDR'],
      [{ since: 'last week' }, 'since must be an ISO 8601 date or time'],
      [{ colour: 'red' }, 'property colour should not exist'],
    ];
    for (const [query, message] of cases) {
      const res = await list(adminToken, query).expect(400);
      expect(res.body).toEqual({ code: 'BAD_REQUEST', message });
    }
  });

  it('is described by OpenAPI 3 at /api/docs, every documented parameter accepted', async () => {
    const doc = (await t.http().get('/api/docs/openapi.json').expect(200)).body;
    expect(doc.openapi).toMatch(/^3\./);
    const op = doc.paths['/api/v1/audit/events'].get;
    expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(
      AUDIT_API_PARAMETERS.map((p) => p.name),
    );
    expect(Object.keys(op.responses)).toEqual(['200', '400', '401']);
    const valid: Record<string, string> = {
      tag: 'x',
      actor: 'x',
      user: 'x',
      project: 'x',
      ip: '10.0.0.1',
      since: '2026-01-01',
      until: '2026-01-02',
      q: 'a=b',
      limit: '5',
      cursor: Buffer.from('b:99').toString('base64url'),
    };
    for (const p of AUDIT_API_PARAMETERS) {
      await list(adminToken, { [p.name]: valid[p.name] }).expect(200);
    }
    const page = await t.http().get('/api/docs').expect(200);
    expect(page.text).toContain('GET /api/v1/audit/events');
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)/);
  });
});
