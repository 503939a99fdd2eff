/**
 * The plugin API's version (semver). A plugin's manifest names the range it was written for
 * (`api: '^1.0.0'`); the host refuses a plugin whose range this version does not satisfy.
 * Adding a hook, a payload field or an export is minor; removing or changing one is major.
 */
export const PLUGIN_API_VERSION = '1.3.0';
