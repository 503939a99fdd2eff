import { Injectable, RequestMethod, type OnApplicationBootstrap } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { ACCESS_POLICY } from './auth.decorators.js';

/** A route handler that declares no access policy, as `GET /path`. */
export class MissingAccessPolicyError extends Error {
  constructor(readonly routes: string[]) {
    super(
      `these routes declare no access policy; add @Public(), @ReadAccess(), @SignedIn(), ` +
        `@AdminOnly() or @ProjectRole() (src/accounts/auth/auth.decorators.ts): ${routes.join(', ')}`,
    );
    this.name = 'MissingAccessPolicyError';
  }
}

/**
 * Refuses to start when a route has no access decorator. The guard would refuse such a route
 * at run time anyway (deny by default); failing at boot names it at once, for core and plugins.
 */
@Injectable()
export class RoutePolicyCheck implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onApplicationBootstrap(): void {
    const missing: string[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || !wrapper.metatype) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      const base = this.reflector.get<string | string[]>(PATH_METADATA, wrapper.metatype) ?? '';
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[name] as () => unknown;
        const path = this.reflector.get<string | string[] | undefined>(PATH_METADATA, handler);
        if (path === undefined) continue;
        const policy = this.reflector.getAllAndOverride(ACCESS_POLICY, [handler, wrapper.metatype]);
        if (policy) continue;
        const method = RequestMethod[this.reflector.get<RequestMethod>(METHOD_METADATA, handler)];
        missing.push(
          `${method} /${[base, path].flat().filter(Boolean).join('/')}`.replace(/\/+/g, '/'),
        );
      }
    }
    if (missing.length > 0) throw new MissingAccessPolicyError(missing);
  }
}
