import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { loadConfig, type Config } from '../config/config.js';
import { PLUGIN_API_VERSION } from '../plugin-api/version.js';
import { loadPlugins } from './plugin-loader.js';
import { PluginLoadError } from './plugin-load.error.js';

const fixtures = join(process.cwd(), 'test/fixtures/plugins');
const sample = join(fixtures, 'sample');
const future = join(fixtures, 'future');
const silent = pino({ level: 'silent' });
const dataDir = mkdtempSync(join(tmpdir(), 'larder-loader-'));

function config(env: Record<string, string>): Config {
  return loadConfig({ LARDER_DATA_DIR: dataDir, ...env });
}

async function failure(env: Record<string, string>): Promise<PluginLoadError> {
  const error = await loadPlugins(config(env), silent).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PluginLoadError);
  return error as PluginLoadError;
}

describe('loading plugins', () => {
  it('loads a plugin by absolute path with its manifest, options and declared hooks', async () => {
    const set = await loadPlugins(config({ LARDER_PLUGINS: sample }), silent);
    expect(set.failed).toEqual([]);
    const [plugin] = set.loaded;
    expect(plugin.manifest).toMatchObject({ name: 'sample', version: '1.2.3', api: '^1.0.0' });
    expect(plugin.source).toBe('path');
    expect(plugin.options).toEqual({ pageSize: 10, mood: 'quiet' });
    expect(plugin.hooks.map((h) => `${h.hook}:${h.phase}:${h.handler}`)).toEqual([
      'release.created:before:SampleHooks.refuse',
      'release.created:transaction:SampleHooks.note',
      'release.created:after:SampleHooks.remember',
    ]);
  });

  it('refuses a plugin written for another plugin API, saying which versions disagree', async () => {
    const error = await failure({ LARDER_PLUGINS: future });
    expect(error.message).toBe(
      `plugin future: was written for plugin API ^2.0.0, but this Larder provides plugin API ${PLUGIN_API_VERSION}; ` +
        `install a version of the plugin made for ${PLUGIN_API_VERSION}`,
    );
  });

  it('with LARDER_PLUGINS_STRICT=false reports a broken plugin and loads the others', async () => {
    const set = await loadPlugins(
      config({ LARDER_PLUGINS: `${future},${sample}`, LARDER_PLUGINS_STRICT: 'false' }),
      silent,
    );
    expect(set.loaded.map((p) => p.manifest.name)).toEqual(['sample']);
    expect(set.failed).toEqual([
      expect.objectContaining({
        plugin: 'future',
        message: expect.stringContaining('plugin API ^2.0.0'),
      }),
    ]);
  });

  it('reads options from LARDER_PLUGIN_<NAME>_<OPTION>, converting to the declared type', async () => {
    const set = await loadPlugins(
      config({
        LARDER_PLUGINS: sample,
        LARDER_PLUGIN_SAMPLE_PAGE_SIZE: '25',
        LARDER_PLUGIN_SAMPLE_MOOD: 'loud',
      }),
      silent,
    );
    expect(set.loaded[0].options).toEqual({ pageSize: 25, mood: 'loud' });
  });

  it('stops the boot on a bad option value, naming the variable', async () => {
    const error = await failure({ LARDER_PLUGINS: sample, LARDER_PLUGIN_SAMPLE_PAGE_SIZE: '500' });
    expect(error.message).toBe(
      'plugin sample: LARDER_PLUGIN_SAMPLE_PAGE_SIZE: pageSize must not be greater than 100',
    );
    const notNumber = await failure({
      LARDER_PLUGINS: sample,
      LARDER_PLUGIN_SAMPLE_PAGE_SIZE: 'lots',
    });
    expect(notNumber.message).toBe(
      'plugin sample: LARDER_PLUGIN_SAMPLE_PAGE_SIZE must be a number, got "lots"',
    );
  });

  it('stops the boot on a variable that is no option of the plugin (a typo)', async () => {
    const error = await failure({ LARDER_PLUGINS: sample, LARDER_PLUGIN_SAMPLE_PAGESIZE: '5' });
    expect(error.message).toBe(
      'plugin sample: LARDER_PLUGIN_SAMPLE_PAGESIZE is not an option of sample ' +
        '(options: LARDER_PLUGIN_SAMPLE_PAGE_SIZE, LARDER_PLUGIN_SAMPLE_MOOD)',
    );
  });

  it('names an explicitly listed plugin that is nowhere to be found', async () => {
    const error = await failure({ LARDER_PLUGINS: 'no-such-plugin-xyz' });
    expect(error.message).toBe(
      'plugin no-such-plugin-xyz: is neither a folder under plugins/ nor an installed npm package (npm install no-such-plugin-xyz)',
    );
  });

  it('skips a default plugin missing from this build instead of failing the boot', async () => {
    const cfg = { ...config({}), plugins: ['not-shipped-yet'] };
    expect(cfg.pluginsDefaulted).toBe(true);
    const set = await loadPlugins(cfg, silent);
    expect(set).toEqual({ loaded: [], failed: [] });
  });

  it('refuses the same plugin listed twice', async () => {
    const error = await failure({ LARDER_PLUGINS: `${sample},${sample}` });
    expect(error.message).toBe('plugin sample: is listed twice in LARDER_PLUGINS');
  });
});
