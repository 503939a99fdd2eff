import type { EntityManager } from 'typeorm';
import type { HookPhase } from './hook-bus.js';
import type { HookEvent, HookName } from './hook-map.js';

/** Metadata key under which `@OnHook` records its subscriptions on the class prototype. */
export const ON_HOOK = Symbol('larder.on-hook');

export interface OnHookOptions {
  phase: HookPhase;
  /** Lower runs first within the phase; ties keep registration order. Default 0. */
  order?: number;
}

export interface HookSubscription {
  hook: HookName;
  phase: HookPhase;
  order: number;
  method: string | symbol;
}

/**
 * Marks a provider method as a hook handler; the core finds it at boot (DESIGN.md §4).
 * The event type is checked against the hook map, so a handler for `file.uploading` cannot
 * read a field that payload does not have. A method may carry several `@OnHook`s.
 *
 * ```ts
 * @OnHook('file.uploading', { phase: 'before' })
 * check(event: HookEvent<'file.uploading'>) { if (tooBig(event)) throw new HookVeto('…'); }
 * ```
 */
export function OnHook<K extends HookName>(hook: K, options: OnHookOptions) {
  return <T extends (event: HookEvent<K>, manager: EntityManager) => unknown>(
    target: object,
    method: string | symbol,
    _descriptor: TypedPropertyDescriptor<T>,
  ): void => {
    const existing: HookSubscription[] = Reflect.getOwnMetadata(ON_HOOK, target) ?? [];
    Reflect.defineMetadata(
      ON_HOOK,
      [...existing, { hook, phase: options.phase, order: options.order ?? 0, method }],
      target,
    );
  };
}

/** The subscriptions declared on a class and its ancestors. */
export function hookSubscriptions(type: Function): HookSubscription[] {
  const found: HookSubscription[] = [];
  for (let proto = type.prototype; proto && proto !== Object.prototype;) {
    found.push(...((Reflect.getOwnMetadata(ON_HOOK, proto) as HookSubscription[]) ?? []));
    proto = Object.getPrototypeOf(proto);
  }
  return found;
}
