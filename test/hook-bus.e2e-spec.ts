import { Body, Controller, HttpCode, Injectable, Module, Post } from '@nestjs/common';
import { CsrfExempt, Public } from '../src/accounts/auth/auth.decorators.js';
import { HookBus } from '../src/hooks/hook-bus.js';
import type { HookEvent, HookMap } from '../src/hooks/hook-map.js';
import { HookVeto, HookVetoError } from '../src/hooks/hook-veto.js';
import { OnHook } from '../src/hooks/on-hook.decorator.js';
import { LOGGER } from '../src/ops/ops.tokens.js';
import { captureLogs } from './helpers/log-capture.js';
import { createTestApp, userActor, type TestApp } from './helpers/test-app.js';

/** What the handlers below do, set per test. */
const script = {
  calls: [] as string[],
  vetoBefore: false,
  throwAfter: false,
  hangAfter: false,
  throwInTransaction: false,
  vetoInTransaction: false,
};

const project = { id: 'p1', name: 'Acme', normalizedName: 'acme' };
const payload = (version: string): HookMap['release.created'] => ({
  project,
  release: { id: `r-${version}`, version, canonicalVersion: version },
});

/** Core-side handlers (owner `core`), declared out of order to prove `order` sorts them. */
@Injectable()
class ScriptedHooks {
  @OnHook('release.created', { phase: 'before', order: 20 })
  late(event: HookEvent<'release.created'>) {
    script.calls.push(`before:20:${event.release.version}`);
  }

  @OnHook('release.created', { phase: 'before', order: -5 })
  early(event: HookEvent<'release.created'>) {
    script.calls.push(`before:-5:${event.actor.kind}`);
    if (script.vetoBefore) throw new HookVeto('not today');
  }

  @OnHook('release.created', { phase: 'transaction' })
  async inTransaction(
    _event: HookEvent<'release.created'>,
    manager: import('typeorm').EntityManager,
  ) {
    script.calls.push('transaction');
    await manager.query(`INSERT INTO bus_probe (note) VALUES ('from the hook')`);
    if (script.throwInTransaction) throw new Error('transaction hook failed');
    if (script.vetoInTransaction) throw new HookVeto('seen the row, and refuse it');
  }

  @OnHook('release.created', { phase: 'after' })
  async after() {
    script.calls.push('after');
    if (script.throwAfter) throw new Error('after hook exploded');
    if (script.hangAfter) await new Promise(() => {});
  }
}

/** A write performed through the bus, over HTTP, as a feature controller would. */
@Controller('test/releases')
@Public()
@CsrfExempt()
class ReleaseController {
  constructor(private readonly bus: HookBus) {}

  @Post()
  @HttpCode(201)
  async create(@Body() body: Record<string, string>) {
    const version = String(body.version);
    await this.bus.perform('release.created', payload(version), (manager) =>
      manager.query(`INSERT INTO bus_probe (note) VALUES ($1)`, [version]),
    );
    return { created: version };
  }
}

@Module({ providers: [ScriptedHooks], controllers: [ReleaseController] })
class ScriptedModule {}

describe('the hook bus', () => {
  let t: TestApp;
  const logs = captureLogs();
  let bus: HookBus;

  beforeAll(async () => {
    t = await createTestApp({
      env: { LARDER_HOOK_TIMEOUT_MS: '100' },
      imports: [ScriptedModule],
      overrides: [{ provide: LOGGER, useValue: logs.logger }],
    });
    await t.dataSource.query('CREATE TABLE bus_probe (id serial PRIMARY KEY, note text NOT NULL)');
    bus = t.app.get(HookBus);
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    Object.assign(script, {
      calls: [],
      vetoBefore: false,
      throwAfter: false,
      hangAfter: false,
      throwInTransaction: false,
      vetoInTransaction: false,
    });
    await t.dataSource.query('TRUNCATE bus_probe');
    logs.lines.length = 0;
  });

  const probeRows = async () =>
    (await t.dataSource.query('SELECT note FROM bus_probe ORDER BY id')).map(
      (r: { note: string }) => r.note,
    );
  const afterHooksSettle = () => new Promise((resolve) => setTimeout(resolve, 150));

  it('finds @OnHook methods at boot and registers them as the core', () => {
    const mine = bus.registrations().filter((r) => r.hook === 'release.created');
    expect(mine.map((r) => [r.phase, r.order, r.plugin])).toEqual(
      expect.arrayContaining([
        ['before', -5, 'core'],
        ['before', 20, 'core'],
        ['transaction', 0, 'core'],
        ['after', 0, 'core'],
      ]),
    );
  });

  it('runs before-hooks by order, then the change and transaction hooks, then after-hooks with the actor', async () => {
    await t.asActor(userActor('alice'), () =>
      bus.perform('release.created', payload('1.0'), async (manager) => {
        script.calls.push('change');
        await manager.query(`INSERT INTO bus_probe (note) VALUES ('1.0')`);
      }),
    );
    await afterHooksSettle();
    expect(script.calls).toEqual([
      'before:-5:user',
      'before:20:1.0',
      'change',
      'transaction',
      'after',
    ]);
    expect(await probeRows()).toEqual(['1.0', 'from the hook']);
  });

  it('a veto refuses the action, names who vetoed, and nothing is written', async () => {
    script.vetoBefore = true;
    const attempt = t.asActor(userActor('alice'), () =>
      bus.perform('release.created', payload('2.0'), (manager) =>
        manager.query(`INSERT INTO bus_probe (note) VALUES ('2.0')`),
      ),
    );
    await expect(attempt).rejects.toThrow(HookVetoError);
    await expect(attempt).rejects.toThrow('core: not today');
    await afterHooksSettle();
    expect(await probeRows()).toEqual([]);
    // Later before-hooks and the after-hooks never ran.
    expect(script.calls).toEqual(['before:-5:user']);
  });

  it('over HTTP a veto is a 403 that names the plugin', async () => {
    script.vetoBefore = true;
    const res = await t
      .http()
      .post('/test/releases')
      .set('Accept', 'application/json')
      .send({ version: '2.1' });
    expect(res.status).toBe(403);
    expect(res.body.message).toBe('core: not today');
    expect(await probeRows()).toEqual([]);
  });

  it('a transaction hook that throws rolls the whole action back', async () => {
    script.throwInTransaction = true;
    await expect(
      t.asActor(userActor('alice'), () =>
        bus.perform('release.created', payload('3.0'), (manager) =>
          manager.query(`INSERT INTO bus_probe (note) VALUES ('3.0')`),
        ),
      ),
    ).rejects.toThrow('transaction hook failed');
    await afterHooksSettle();
    expect(await probeRows()).toEqual([]);
    expect(script.calls).not.toContain('after');
  });

  it('a veto from a transaction hook rolls the action back and names who vetoed', async () => {
    script.vetoInTransaction = true;
    const attempt = t.asActor(userActor('alice'), () =>
      bus.perform('release.created', payload('3.1'), (manager) =>
        manager.query(`INSERT INTO bus_probe (note) VALUES ('3.1')`),
      ),
    );
    await expect(attempt).rejects.toBeInstanceOf(HookVetoError);
    await expect(attempt).rejects.toThrow('core: seen the row, and refuse it');
    await afterHooksSettle();
    expect(await probeRows()).toEqual([]);
    expect(script.calls).not.toContain('after');
  });

  it('an after-hook that throws changes nothing in the response and is logged with its plugin', async () => {
    script.throwAfter = true;
    const res = await t.http().post('/test/releases').send({ version: '4.0' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ created: '4.0' });
    await afterHooksSettle();
    expect(await probeRows()).toEqual(['4.0', 'from the hook']);
    const failure = logs.lines.find((l) => l.hook === 'release.created' && l.level === 50);
    expect(failure).toMatchObject({
      plugin: 'core',
      msg: 'after-hook of core failed on release.created',
    });
  });

  it('an after-hook that hangs past LARDER_HOOK_TIMEOUT_MS neither delays nor changes the response', async () => {
    script.hangAfter = true;
    const started = Date.now();
    const res = await t.http().post('/test/releases').send({ version: '5.0' });
    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeLessThan(1000);
    await afterHooksSettle();
    const timeout = logs.lines.find((l) => l.hook === 'release.created' && l.level === 50);
    expect((timeout?.err as { message: string }).message).toBe('timed out after 100 ms');
    expect(await probeRows()).toEqual(['5.0', 'from the hook']);
  });

  it('refuses to run a hooked action outside any request context', async () => {
    await expect(bus.perform('release.created', payload('6.0'), async () => {})).rejects.toThrow(
      'no request context',
    );
  });
});
