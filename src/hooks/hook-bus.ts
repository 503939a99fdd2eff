import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { requestContext } from '../context/request-context.js';
import { LOGGER } from '../ops/ops.tokens.js';
import type { HookEvent, HookMap, HookName } from './hook-map.js';
import { HookVeto, HookVetoError } from './hook-veto.js';

/**
 * - `before`: in order, before anything is written; may throw {@link HookVeto}.
 * - `transaction`: inside the action's transaction, with its manager; a throw rolls the action
 *   back (for plugins that must write atomically with the change, as the audit plugin does).
 * - `after`: once committed, each under a timeout; errors are logged, never returned.
 */
export type HookPhase = 'before' | 'transaction' | 'after';

export type HookHandler<K extends HookName> = (
  event: HookEvent<K>,
  manager?: EntityManager,
) => unknown | Promise<unknown>;

interface Registration {
  hook: HookName;
  phase: HookPhase;
  order: number;
  /** `core` or the plugin's name: named in vetoes and in logs of failures. */
  plugin: string;
  handler: HookHandler<HookName>;
}

@Injectable()
export class HookBus {
  private readonly handlers = new Map<string, Registration[]>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  on<K extends HookName>(
    hook: K,
    phase: HookPhase,
    handler: HookHandler<K>,
    options: { plugin: string; order?: number },
  ): void {
    const key = `${hook}:${phase}`;
    const list = this.handlers.get(key) ?? [];
    list.push({
      hook,
      phase,
      handler: handler as HookHandler<HookName>,
      plugin: options.plugin,
      order: options.order ?? 0,
    });
    list.sort((a, b) => a.order - b.order);
    this.handlers.set(key, list);
  }

  /** Whether anything listens: lets the core skip building payloads of high-volume hooks. */
  has(hook: HookName, phase?: HookPhase): boolean {
    const phases: HookPhase[] = phase ? [phase] : ['before', 'transaction', 'after'];
    return phases.some((p) => (this.handlers.get(`${hook}:${p}`)?.length ?? 0) > 0);
  }

  registrations(): ReadonlyArray<Omit<Registration, 'handler'>> {
    return [...this.handlers.values()].flat().map(({ handler: _h, ...rest }) => rest);
  }

  /**
   * Performs one sensitive action: before-hooks (may veto), then `change` and the transaction
   * hooks in one transaction, then after-hooks once committed. `change` must write only
   * through the manager it is given. Returns what `change` returned.
   */
  async perform<K extends HookName, T>(
    hook: K,
    payload: HookMap[K] | ((result: T) => HookMap[K]),
    change: (manager: EntityManager) => Promise<T>,
    options: { manager?: EntityManager } = {},
  ): Promise<T> {
    const early = typeof payload === 'function' ? undefined : payload;
    if (early) await this.runBefore(hook, early);
    const work = async (manager: EntityManager) => {
      const result = await change(manager);
      const event = this.event(hook, typeof payload === 'function' ? payload(result) : payload);
      for (const registration of this.handlers.get(`${hook}:transaction`) ?? []) {
        try {
          await registration.handler(event, manager);
        } catch (error) {
          // Thrown inside the transaction, so the change rolls back; a veto still names its plugin.
          throw error instanceof HookVeto
            ? new HookVetoError(registration.plugin, hook, error.message)
            : error;
        }
      }
      return { result, event };
    };
    // Inside a caller's transaction (an action made of several), join it; after-hooks then run
    // when this call returns, which the caller accepts by passing its manager.
    const { result, event } = options.manager
      ? await work(options.manager)
      : await this.dataSource.transaction(work);
    this.runAfter(event);
    return result;
  }

  /** Runs the before-hooks alone: for actions whose payload is known before the change. */
  async runBefore<K extends HookName>(hook: K, payload: HookMap[K]): Promise<void> {
    const event = this.event(hook, payload);
    for (const registration of this.handlers.get(`${hook}:before`) ?? []) {
      try {
        await registration.handler(event);
      } catch (error) {
        if (error instanceof HookVeto) {
          throw new HookVetoError(registration.plugin, hook, error.message);
        }
        throw error;
      }
    }
  }

  /** Fires after-hooks for an action that changed no row (a login, a logout). */
  emit<K extends HookName>(hook: K, payload: HookMap[K]): void {
    this.runAfter(this.event(hook, payload));
  }

  private event<K extends HookName>(hook: K, payload: HookMap[K]): HookEvent<K> {
    const context = requestContext();
    return { ...payload, hook, actor: context.actor, context: { ...context } } as HookEvent<K>;
  }

  private runAfter<K extends HookName>(event: HookEvent<K>): void {
    for (const registration of this.handlers.get(`${event.hook}:after`) ?? []) {
      void this.runOneAfter(registration, event);
    }
  }

  private async runOneAfter(registration: Registration, event: HookEvent<HookName>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${this.config.hookTimeoutMs} ms`)),
        this.config.hookTimeoutMs,
      );
      timer.unref();
    });
    try {
      await Promise.race([Promise.resolve().then(() => registration.handler(event)), timeout]);
    } catch (error) {
      // Too late to refuse anything: the change has committed. Log it with the plugin's name.
      this.logger.error(
        { plugin: registration.plugin, hook: event.hook, err: error },
        `after-hook of ${registration.plugin} failed on ${event.hook}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }
}
