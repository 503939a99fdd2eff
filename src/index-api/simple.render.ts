import { compareVersions, sortVersions } from '../packages/version.js';
import type { SimpleFileRow } from './simple.queries.js';

/**
 * API version advertised (PEP 629): 1.1 = PEP 700 (`versions`, `size`, `upload-time`).
 * Provenance (1.3) and status markers (1.4) are not implemented, so not claimed.
 */
export const API_VERSION = '1.1';

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Relative to `/simple/<name>/`, so the index works under any path prefix (PEP 503 allows it). */
export function fileUrl(storageKey: string): string {
  return `../../files/${storageKey.split('/').map(encodeURIComponent).join('/')}`;
}

/** PEP 700: `yyyy-mm-ddThh:mm:ss.ffffffZ` (fraction optional, at most six digits). */
export function uploadTime(date: Date): string {
  return date.toISOString();
}

function sortFiles(rows: SimpleFileRow[]): SimpleFileRow[] {
  // Warehouse orders by (version, filename); clients do not rely on it, people reading do.
  return [...rows].sort(
    (a, b) =>
      compareVersions(a.version, b.version) ||
      (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0),
  );
}

/** PEP 658/714: advertised for wheels only, as PyPI does (an sdist's PKG-INFO may be dynamic). */
function coreMetadataHash(row: SimpleFileRow): string | null {
  return row.packagetype === 'bdist_wheel' && row.metadata_sha256 ? row.metadata_sha256 : null;
}

/** PEP 503 project page, with PEP 592 / 658 / 714 attributes, as Warehouse writes it. */
export function renderProjectHtml(name: string, rows: SimpleFileRow[]): string {
  const links = sortFiles(rows).map((row) => {
    let attributes = ` href="${escapeHtml(fileUrl(row.storage_key))}#sha256=${row.sha256}"`;
    if (row.requires_python) {
      attributes += ` data-requires-python="${escapeHtml(row.requires_python)}"`;
    }
    if (row.yanked) attributes += ` data-yanked="${escapeHtml(row.yanked_reason ?? '')}"`;
    const metadata = coreMetadataHash(row);
    if (metadata) {
      attributes += ` data-dist-info-metadata="sha256=${metadata}" data-core-metadata="sha256=${metadata}"`;
    }
    return `    <a${attributes}>${escapeHtml(row.filename)}</a><br />\n`;
  });
  return (
    '<!DOCTYPE html>\n<html>\n  <head>\n' +
    `    <meta name="pypi:repository-version" content="${API_VERSION}">\n` +
    `    <title>Links for ${escapeHtml(name)}</title>\n  </head>\n  <body>\n` +
    `    <h1>Links for ${escapeHtml(name)}</h1>\n` +
    links.join('') +
    '  </body>\n</html>\n'
  );
}

/** PEP 691 + PEP 700 project page. */
export function renderProjectJson(
  normalizedName: string,
  versions: string[],
  rows: SimpleFileRow[],
): string {
  return JSON.stringify({
    meta: { 'api-version': API_VERSION },
    name: normalizedName,
    versions: sortVersions(versions),
    files: sortFiles(rows).map((row) => {
      const metadata = coreMetadataHash(row);
      return {
        filename: row.filename,
        url: fileUrl(row.storage_key),
        hashes: { sha256: row.sha256 },
        'requires-python': row.requires_python,
        size: Number(row.size),
        'upload-time': uploadTime(row.upload_time),
        yanked: row.yanked ? row.yanked_reason || true : false,
        'core-metadata': metadata ? { sha256: metadata } : false,
      };
    }),
  });
}

export function renderIndexHtml(projects: { name: string; normalized_name: string }[]): string {
  return (
    '<!DOCTYPE html>\n<html>\n  <head>\n' +
    `    <meta name="pypi:repository-version" content="${API_VERSION}">\n` +
    '    <title>Simple index</title>\n  </head>\n  <body>\n' +
    projects
      .map(
        (p) =>
          `    <a href="${escapeHtml(encodeURIComponent(p.normalized_name))}/">${escapeHtml(p.name)}</a><br />\n`,
      )
      .join('') +
    '  </body>\n</html>\n'
  );
}

export function renderIndexJson(projects: { name: string; normalized_name: string }[]): string {
  return JSON.stringify({
    meta: { 'api-version': API_VERSION },
    projects: projects.map((p) => ({ name: p.name })),
  });
}
