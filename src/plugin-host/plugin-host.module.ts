import { Global, Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import type { Logger } from 'pino';
import { HOOK_OWNER_RESOLVER } from '../hooks/hook-discovery.js';
import { LOGGER } from '../ops/ops.tokens.js';
import { PageRenderer } from '../web/page-renderer.js';
import { AuditRecorder, AuditTagRegistry } from './audit-extension.js';
import { PluginContext } from './plugin-context.js';
import type { LoadedPlugin, PluginSet } from './plugin-loader.js';
import { PLUGIN_SET, PluginRegistry } from './plugin-registry.js';

export const PLUGIN_NAME = Symbol('larder.plugin-name');

/** One per plugin: its {@link PluginContext} and options, visible to the plugin's root module. */
@Module({})
class PluginContextModule {
  static for(plugin: LoadedPlugin): DynamicModule {
    const { manifest } = plugin;
    const providers: Provider[] = [
      // Also makes each plugin's copy of this module distinct for Nest.
      { provide: PLUGIN_NAME, useValue: manifest.name },
      {
        provide: PluginContext,
        inject: [LOGGER, AuditRecorder, PageRenderer],
        useFactory: (logger: Logger, audit: AuditRecorder, pages: PageRenderer) =>
          new PluginContext(
            manifest.name,
            manifest.version,
            plugin.root,
            plugin.options ?? {},
            logger.child({ plugin: manifest.name }),
            audit,
            pages,
          ),
      },
    ];
    if (manifest.options) providers.push({ provide: manifest.options, useValue: plugin.options });
    return {
      module: PluginContextModule,
      providers,
      exports: providers.map((p) => (p as { provide: unknown }).provide as symbol),
    };
  }
}

/**
 * The plugin host inside the app: the loaded plugins' modules (each given its context), the
 * registry, and the extension points plugins reach through `src/plugin-api`.
 */
@Global()
@Module({})
export class PluginHostModule {
  static forRoot(set: PluginSet): DynamicModule {
    const pluginModules = set.loaded
      .filter((plugin) => plugin.manifest.module)
      .map((plugin): DynamicModule => ({
        module: plugin.manifest.module as Type<unknown>,
        imports: [PluginContextModule.for(plugin)],
      }));
    return {
      module: PluginHostModule,
      global: true,
      imports: pluginModules,
      providers: [
        { provide: PLUGIN_SET, useValue: set },
        PluginRegistry,
        { provide: HOOK_OWNER_RESOLVER, useExisting: PluginRegistry },
        AuditTagRegistry,
        AuditRecorder,
      ],
      exports: [PluginRegistry, HOOK_OWNER_RESOLVER, AuditTagRegistry, AuditRecorder],
    };
  }
}
