import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import hbs from 'hbs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HookOwnerResolver } from '../hooks/hook-discovery.js';
import { TabRegistry } from '../web/tabs.js';
import { AuditTagRegistry } from './audit-extension.js';
import type { LoadedPlugin, PluginSet } from './plugin-loader.js';

/** hbs ≥ 4.1 takes a `rename` option that @types/hbs does not declare. */
const registerPartials = hbs.registerPartials.bind(hbs) as unknown as (
  directory: string,
  options: { rename: (name: string) => string },
  done: () => void,
) => void;

export const PLUGIN_SET = Symbol('larder.plugin-set');

/**
 * The loaded plugins, as the running app sees them: contributes their tabs and audit tags at
 * start, and tells the hook discovery which plugin a handler belongs to.
 */
@Injectable()
export class PluginRegistry implements HookOwnerResolver, OnModuleInit {
  constructor(
    @Inject(PLUGIN_SET) private readonly set: PluginSet,
    private readonly tabs: TabRegistry,
    private readonly auditTags: AuditTagRegistry,
  ) {}

  get loaded(): readonly LoadedPlugin[] {
    return this.set.loaded;
  }

  get failed(): PluginSet['failed'] {
    return this.set.failed;
  }

  async onModuleInit(): Promise<void> {
    for (const { manifest, root } of this.set.loaded) {
      for (const { page, ...tab } of manifest.tabs ?? []) {
        this.tabs.contribute({ ...tab, set: page, owner: manifest.name });
      }
      for (const tag of manifest.auditTags ?? []) this.auditTags.register(tag, manifest.name);
      const partials = root && join(root, 'views', 'partials');
      if (partials && existsSync(partials)) {
        // Namespaced, `{{> sample/note}}`, so plugins' partials never replace the core's.
        await new Promise<void>((resolve) =>
          registerPartials(partials, { rename: (name) => `${manifest.name}/${name}` }, resolve),
        );
      }
    }
  }

  ownerOf(type: Function, hostModule: Function | undefined): string {
    const plugin =
      this.set.loaded.find((p) => p.classes.has(type)) ??
      (hostModule ? this.set.loaded.find((p) => p.modules.has(hostModule)) : undefined);
    return plugin?.manifest.name ?? 'core';
  }
}
