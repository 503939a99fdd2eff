import { normalizeName } from './names.js';
import { compareVersions, tryParseVersion } from './version.js';

/** Core metadata that cannot be read or that disagrees with the upload. */
export class InvalidMetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMetadataError';
  }
}

/** Core-metadata fields that may appear more than once (core metadata spec, "Multiple use"). */
export const MULTI_USE_FIELDS = new Set([
  'classifier',
  'dynamic',
  'license-file',
  'obsoletes',
  'obsoletes-dist',
  'platform',
  'project-url',
  'provides',
  'provides-dist',
  'provides-extra',
  'requires',
  'requires-dist',
  'requires-external',
  'supported-platform',
]);

export interface CoreMetadata {
  /** Lower-cased field name → every value in order (continuation lines unfolded). */
  fields: Map<string, string[]>;
  /** The message body (metadata 2.1+: the description), or null when absent/empty. */
  body: string | null;
}

/** Upper bound on the METADATA / PKG-INFO file kept for PEP 658 (4 MiB). */
export const MAX_METADATA_BYTES = 4 * 1024 * 1024;

/**
 * Decodes UTF-8 strictly: core metadata is UTF-8 (core metadata spec); bad bytes are refused
 * rather than silently replaced.
 */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new InvalidMetadataError(`${what} is not valid UTF-8.`);
  }
}

/**
 * Parses the RFC 822-style format of METADATA and PKG-INFO as Python's `email.parser` with the
 * compat32 policy does for these files: `Name: value` headers, continuation lines that start
 * with whitespace, a blank line, then the body.
 */
export function parseCoreMetadata(input: Uint8Array | string): CoreMetadata {
  const text = typeof input === 'string' ? input : decodeUtf8(input, 'The metadata file');
  if (text.includes('\0')) throw new InvalidMetadataError('The metadata file contains NUL bytes.');
  const fields = new Map<string, string[]>();
  const lines = text.split(/\r\n|\n|\r/);
  let current: { key: string; value: string } | null = null;
  const flush = () => {
    if (!current) return;
    const list = fields.get(current.key) ?? [];
    list.push(current.value.trim());
    fields.set(current.key, list);
    current = null;
  };
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') {
      i++;
      break;
    }
    if (/^[ \t]/.test(line)) {
      if (!current)
        throw new InvalidMetadataError('The metadata file starts with a continuation line.');
      current.value += `\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      // email.parser treats a non-header line as the start of the body (a "defect").
      break;
    }
    flush();
    current = { key: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1) };
  }
  flush();
  const rest = lines.slice(i).join('\n');
  return { fields, body: rest.trim() === '' ? null : rest };
}

export function field(metadata: CoreMetadata, name: string): string | null {
  const values = metadata.fields.get(name.toLowerCase());
  if (!values || values.length === 0) return null;
  const value = values[0];
  return value === '' || value === 'UNKNOWN' ? null : value;
}

export function fieldList(metadata: CoreMetadata, name: string): string[] {
  return (metadata.fields.get(name.toLowerCase()) ?? []).filter((v) => v !== '' && v !== 'UNKNOWN');
}

/**
 * The description: the body (metadata 2.1+) or the `Description` header, whose continuation
 * lines older tools prefix with 7–8 spaces and `|`.
 */
export function description(metadata: CoreMetadata): string | null {
  if (metadata.body !== null) return metadata.body;
  const raw = metadata.fields.get('description')?.[0];
  if (!raw) return null;
  const [first, ...rest] = raw.split('\n');
  const unfolded = rest.map((line) => line.replace(/^ {7,8}\||^ {8}|^\t/, ''));
  const text = [first, ...unfolded].join('\n');
  return text === 'UNKNOWN' ? null : text;
}

/**
 * The metadata inside the archive must name the same project and version as the upload form
 * (Warehouse compares the two; installers trust the archive).
 */
export function checkMetadataAgrees(
  metadata: CoreMetadata,
  projectName: string,
  version: string,
  file: string,
): void {
  const name = field(metadata, 'Name');
  const ver = field(metadata, 'Version');
  if (!field(metadata, 'Metadata-Version')) {
    throw new InvalidMetadataError(`'metadata_version' is missing from ${file}.`);
  }
  if (!name) throw new InvalidMetadataError(`'Name' is missing from ${file}.`);
  if (!ver) throw new InvalidMetadataError(`'Version' is missing from ${file}.`);
  if (normalizeName(name) !== normalizeName(projectName)) {
    throw new InvalidMetadataError(
      `The name in ${file} ('${name}') does not match the upload's name ('${projectName}').`,
    );
  }
  const a = tryParseVersion(ver);
  const b = tryParseVersion(version);
  if (!a || !b || compareVersions(a, b) !== 0) {
    throw new InvalidMetadataError(
      `The version in ${file} ('${ver}') does not match the upload's version ('${version}').`,
    );
  }
}
