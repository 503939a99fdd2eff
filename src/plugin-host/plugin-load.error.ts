/** A plugin that cannot be loaded: the message names the plugin and, for options, the variable. */
export class PluginLoadError extends Error {
  constructor(
    /** The plugin's name, or the LARDER_PLUGINS entry when the manifest could not be read. */
    readonly plugin: string,
    problem: string,
  ) {
    super(`plugin ${plugin}: ${problem}`);
    this.name = 'PluginLoadError';
  }
}
