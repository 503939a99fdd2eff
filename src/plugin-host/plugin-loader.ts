import type { DynamicModule, ForwardReference, Type } from '@nestjs/common';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { hookSubscriptions, type HookSubscription } from '../hooks/on-hook.decorator.js';
import { firstPartyPluginSourceDir, firstPartyPluginsDir } from '../paths.js';
import { validateManifest } from './manifest-validation.js';
import type { PluginManifest } from './plugin-manifest.js';
import { PluginLoadError } from './plugin-load.error.js';
import { readPluginOptions } from './plugin-options.js';

export type PluginSource = 'first-party' | 'package' | 'path';

/** A plugin that passed every load-time check, ready to join the schema and the app. */
export interface LoadedPlugin {
  manifest: PluginManifest;
  source: PluginSource;
  /** The LARDER_PLUGINS entry it came from. */
  spec: string;
  /** Its folder: views (`<root>/views`) and other files are read from here. */
  root: string | undefined;
  /** Validated options, or `undefined` when the manifest declares none. */
  options: object | undefined;
  /** Classes its module tree declares (providers, controllers): they act in its name. */
  classes: Set<Function>;
  /** Module classes of its module tree. */
  modules: Set<Function>;
  hooks: Array<HookSubscription & { handler: string }>;
}

export interface PluginFailure {
  spec: string;
  plugin: string;
  message: string;
}

export interface PluginSet {
  loaded: LoadedPlugin[];
  /** Plugins skipped because LARDER_PLUGINS_STRICT=false let the boot go on without them. */
  failed: PluginFailure[];
}

export const noPlugins: PluginSet = { loaded: [], failed: [] };

const FOLDER_NAME = /^[a-z0-9][a-z0-9-]*$/;

function codeFile(base: string): string | undefined {
  // Built code is .js (dist/); under jest the source .ts is imported and compiled on the fly.
  return [`${base}.js`, `${base}.ts`].find((file) => existsSync(file));
}

interface Located {
  source: PluginSource;
  entry: string;
  root: string | undefined;
}

/** Where a LARDER_PLUGINS entry points: a first-party folder, an absolute path, or a package. */
function locate(spec: string): Located {
  if (isAbsolute(spec)) {
    if (!existsSync(spec)) throw new PluginLoadError(spec, `${spec} does not exist`);
    if (statSync(spec).isDirectory()) {
      const pkg = join(spec, 'package.json');
      const main = existsSync(pkg)
        ? (JSON.parse(readFileSync(pkg, 'utf8')).main as string | undefined)
        : undefined;
      const entry = main ? join(spec, main) : codeFile(join(spec, 'index'));
      if (!entry || !existsSync(entry)) {
        throw new PluginLoadError(spec, `no index.js (or package.json "main") in ${spec}`);
      }
      return { source: 'path', entry, root: spec };
    }
    return { source: 'path', entry: spec, root: dirname(spec) };
  }
  if (FOLDER_NAME.test(spec) && existsSync(join(firstPartyPluginsDir, spec))) {
    const entry = codeFile(join(firstPartyPluginsDir, spec, 'index'));
    if (!entry) throw new PluginLoadError(spec, `plugins/${spec} has no index`);
    return { source: 'first-party', entry, root: firstPartyPluginSourceDir(spec) };
  }
  let root: string | undefined;
  try {
    root = dirname(createRequire(join(process.cwd(), 'noop.js')).resolve(`${spec}/package.json`));
  } catch {
    // Packages whose "exports" hide package.json still load; they just have no views folder.
  }
  return { source: 'package', entry: spec, root };
}

type ModuleRef =
  Type<unknown> | DynamicModule | ForwardReference | Promise<DynamicModule> | undefined;

/**
 * The classes a plugin's module tree declares, read from the modules' metadata without
 * instantiating anything: used to name the plugin in hook registrations and in `plugins list`.
 */
function walkModule(ref: ModuleRef, classes: Set<Function>, modules: Set<Function>): void {
  if (!ref || ref instanceof Promise) return;
  if ('forwardRef' in ref) return walkModule(ref.forwardRef(), classes, modules);
  const type = typeof ref === 'function' ? ref : ref.module;
  const dynamic = typeof ref === 'function' ? undefined : ref;
  const seenBefore = modules.has(type) && !dynamic;
  // Only modules imported as classes are the plugin's own; a dynamic module (e.g.
  // TypeOrmModule.forFeature) is shared with the core, so its class says nothing about owner.
  if (!dynamic) modules.add(type);
  const lists = (key: 'providers' | 'controllers' | 'imports'): unknown[] => [
    ...(seenBefore ? [] : ((Reflect.getMetadata(key, type) as unknown[]) ?? [])),
    ...((dynamic?.[key] as unknown[]) ?? []),
  ];
  for (const provider of [...lists('providers'), ...lists('controllers')]) {
    if (typeof provider === 'function') classes.add(provider);
    else if (provider && typeof provider === 'object' && 'useClass' in provider) {
      classes.add((provider as { useClass: Function }).useClass);
    }
  }
  if (seenBefore) return;
  for (const imported of lists('imports')) walkModule(imported as ModuleRef, classes, modules);
}

async function loadOne(spec: string, env: Config['env']): Promise<LoadedPlugin> {
  const located = locate(spec);
  let exports: Record<string, unknown>;
  try {
    exports = await import(located.entry);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const missing =
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      String((error as Error).message).includes(`'${spec}'`);
    if (located.source === 'package' && missing) {
      throw new PluginLoadError(
        spec,
        `is neither a folder under plugins/ nor an installed npm package (npm install ${spec})`,
      );
    }
    throw new PluginLoadError(
      spec,
      `cannot be imported from ${located.entry}: ${(error as Error).message}`,
    );
  }
  const manifest = validateManifest(exports.default ?? exports.plugin, spec);
  if (located.source === 'first-party' && manifest.name !== spec) {
    throw new PluginLoadError(
      spec,
      `plugins/${spec} declares the name "${manifest.name}"; folder and name must match`,
    );
  }
  const options = manifest.options
    ? readPluginOptions(manifest.name, manifest.options, env)
    : undefined;
  const classes = new Set<Function>();
  const modules = new Set<Function>();
  walkModule(manifest.module, classes, modules);
  const hooks = [...classes].flatMap((type) =>
    hookSubscriptions(type).map((s) => ({ ...s, handler: `${type.name}.${String(s.method)}` })),
  );
  return {
    manifest,
    source: located.source,
    spec,
    root: located.root,
    options,
    classes,
    modules,
    hooks,
  };
}

/**
 * Loads the plugins LARDER_PLUGINS names, before the Nest app exists (DESIGN.md §5): imports
 * each, validates its manifest, API range and options. With LARDER_PLUGINS_STRICT (the default)
 * the first failure stops the boot, naming the plugin; otherwise it is logged and skipped.
 *
 * The default list (LARDER_PLUGINS unset) names first-party plugins that ship with Larder; one
 * that is not installed in this build is skipped quietly, so the default never breaks a boot.
 */
export async function loadPlugins(config: Config, logger: Logger): Promise<PluginSet> {
  const set: PluginSet = { loaded: [], failed: [] };
  for (const spec of config.plugins) {
    if (config.pluginsDefaulted && !existsSync(join(firstPartyPluginsDir, spec))) {
      logger.debug({ plugin: spec }, 'default plugin not installed in this build: skipped');
      continue;
    }
    try {
      const plugin = await loadOne(spec, config.env);
      const name = plugin.manifest.name;
      if (set.loaded.some((other) => other.manifest.name === name)) {
        throw new PluginLoadError(name, 'is listed twice in LARDER_PLUGINS');
      }
      set.loaded.push(plugin);
      logger.info(
        { plugin: name, version: plugin.manifest.version, source: plugin.source },
        `plugin ${name} ${plugin.manifest.version} loaded`,
      );
    } catch (error) {
      const failure =
        error instanceof PluginLoadError
          ? error
          : new PluginLoadError(spec, (error as Error).message ?? String(error));
      if (config.pluginsStrict) throw failure;
      logger.error(
        { plugin: failure.plugin },
        `${failure.message} — skipped (LARDER_PLUGINS_STRICT=false)`,
      );
      set.failed.push({ spec, plugin: failure.plugin, message: failure.message });
    }
  }
  return set;
}
