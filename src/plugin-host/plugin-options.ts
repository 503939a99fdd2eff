import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { PluginLoadError } from './plugin-load.error.js';

/** `upload-policy` → `LARDER_PLUGIN_UPLOAD_POLICY_`. */
export function optionPrefix(pluginName: string): string {
  return `LARDER_PLUGIN_${pluginName.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_`;
}

/** `maxFileSizeMb` → `MAX_FILE_SIZE_MB`. */
export function optionVariable(pluginName: string, property: string): string {
  return optionPrefix(pluginName) + property.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function knownProperties(type: new () => object): string[] {
  const validated = getMetadataStorage()
    .getTargetValidationMetadatas(type, '', true, false)
    .map((meta) => meta.propertyName);
  return [...new Set([...validated, ...Object.keys(new type())])];
}

/**
 * The property's type: from its default value when it has one (`pageSize = 10` emits no
 * useful `design:type`), else from the declared type's metadata.
 */
function declaredType(type: new () => object, property: string): unknown {
  const fallback = (new type() as Record<string, unknown>)[property];
  if (typeof fallback === 'number') return Number;
  if (typeof fallback === 'boolean') return Boolean;
  if (typeof fallback === 'string') return String;
  if (Array.isArray(fallback)) return Array;
  if (fallback !== null && typeof fallback === 'object') return Object;
  return Reflect.getMetadata('design:type', type.prototype, property);
}

/** Turns the environment's string into the property's declared type, or says why it cannot. */
function coerce(type: unknown, raw: string): { value?: unknown; problem?: string } {
  if (type === Number) {
    const trimmed = raw.trim();
    return /^-?\d+(\.\d+)?$/.test(trimmed)
      ? { value: Number(trimmed) }
      : { problem: `must be a number, got "${raw}"` };
  }
  if (type === Boolean) {
    if (/^(1|true|yes|on)$/i.test(raw.trim())) return { value: true };
    if (/^(0|false|no|off)$/i.test(raw.trim())) return { value: false };
    return { problem: `must be true or false, got "${raw}"` };
  }
  if (type === Array) {
    return {
      value: raw
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    };
  }
  if (type === Object) {
    try {
      return { value: JSON.parse(raw) };
    } catch {
      return { problem: 'must be JSON' };
    }
  }
  return { value: raw };
}

function describe(error: ValidationError): string {
  const own = Object.values(error.constraints ?? {});
  const nested = (error.children ?? []).map(describe);
  return [...own, ...nested].join('; ');
}

/**
 * Reads a plugin's options from `LARDER_PLUGIN_<NAME>_<OPTION>` and validates them with the
 * manifest's class-validator class. Properties keep their class defaults when unset; an
 * unknown variable with the plugin's prefix is an error (a typo would otherwise pass silently).
 */
export function readPluginOptions<T extends object>(
  pluginName: string,
  type: new () => T,
  env: Readonly<Record<string, string | undefined>>,
): T {
  const prefix = optionPrefix(pluginName);
  const properties = knownProperties(type);
  const byVariable = new Map(properties.map((p) => [optionVariable(pluginName, p), p]));
  const plain: Record<string, unknown> = {};
  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith(prefix) || raw === undefined) continue;
    const property = byVariable.get(variable);
    if (!property) {
      const known = [...byVariable.keys()].join(', ') || 'none';
      throw new PluginLoadError(
        pluginName,
        `${variable} is not an option of ${pluginName} (options: ${known})`,
      );
    }
    const { value, problem } = coerce(declaredType(type, property), raw);
    if (problem) throw new PluginLoadError(pluginName, `${variable} ${problem}`);
    plain[property] = value;
  }
  // Unset properties keep the defaults the class declares.
  const options = plainToInstance(type, plain);
  const errors = validateSync(options, { forbidUnknownValues: false });
  if (errors.length > 0) {
    const first = errors[0];
    throw new PluginLoadError(
      pluginName,
      `${optionVariable(pluginName, first.property)}: ${describe(first)}`,
    );
  }
  return options;
}
