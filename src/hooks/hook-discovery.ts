import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { Logger } from 'pino';
import { LOGGER } from '../ops/ops.tokens.js';
import { HookBus } from './hook-bus.js';
import { hookSubscriptions } from './on-hook.decorator.js';

/**
 * Says who owns a provider: `core` or a plugin's name. The plugin host provides it, knowing
 * which classes each plugin's module declares; without it everything is the core's.
 */
export interface HookOwnerResolver {
  ownerOf(type: Function, hostModule: Function | undefined): string;
}
export const HOOK_OWNER_RESOLVER = Symbol('larder.hook-owner-resolver');

/**
 * Finds every `@OnHook` method on the app's providers and controllers once all instances exist
 * (Nest creates them all before any `onModuleInit`), and subscribes it to the bus under its
 * owner's name, so vetoes and failures name the plugin.
 */
@Injectable()
export class HookDiscovery implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly bus: HookBus,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(HOOK_OWNER_RESOLVER) private readonly owners?: HookOwnerResolver,
  ) {}

  onModuleInit(): void {
    const seen = new Set<object>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance = wrapper.instance as object | undefined;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      const type = instance.constructor;
      // Null-prototype objects and proxies given as values carry no handlers.
      if (typeof type !== 'function') continue;
      const subscriptions = hookSubscriptions(type);
      if (subscriptions.length === 0) continue;
      const plugin = this.owners?.ownerOf(type, wrapper.host?.metatype) ?? 'core';
      if (!wrapper.isDependencyTreeStatic()) {
        // A request-scoped handler would need a request to exist: refuse rather than guess.
        throw new Error(
          `${plugin}: ${type.name} has @OnHook handlers but is request-scoped or transient; hook handlers must be singletons`,
        );
      }
      for (const { hook, phase, order, method } of subscriptions) {
        const fn = (instance as Record<string | symbol, unknown>)[method];
        if (typeof fn !== 'function') continue;
        this.bus.on(hook, phase, fn.bind(instance), { plugin, order });
        this.logger.debug(
          { plugin, hook, phase, handler: `${type.name}.${String(method)}` },
          'hook handler registered',
        );
      }
    }
  }
}
