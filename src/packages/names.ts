/**
 * Project names: PEP 508 / core-metadata validity and PEP 503 normalisation.
 */

/**
 * PEP 508 name (Warehouse `PROJECT_NAME_RE`): ASCII letters and digits, `.`, `_`, `-`, starting
 * and ending with a letter or digit. JavaScript's `$` without the `m` flag matches only at the
 * very end, so a trailing newline is refused (the spec's 2025 change from `$` to `\Z`).
 */
const NAME_RE = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

/** Longer names are refused; PyPI's longest project names are well under this. */
export const MAX_NAME_LENGTH = 200;

export function isValidProjectName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_RE.test(name);
}

/** PEP 503: lower-case, and every run of `-`, `_`, `.` becomes one `-`. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/**
 * The name as wheel (PEP 427) and PEP 625 sdist filenames spell it: normalised, with `_`
 * for `-` (`Django-Rest_Framework` → `django_rest_framework`).
 */
export function filenameName(name: string): string {
  return normalizeName(name).replace(/-/g, '_');
}
