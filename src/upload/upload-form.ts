import type { UploadRejection } from '../hooks/hook-map.js';
import type { PackageType } from '../packages/filenames.js';
import { isValidProjectName } from '../packages/names.js';
import { isValidSpecifierSet, tryParseVersion, type Version } from '../packages/version.js';

/** An upload refused: the status and the message twine prints (Warehouse's words where it has them). */
export class UploadError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403 | 404 | 405 | 409 | 410 | 413 = 400,
    /** For `file.upload.rejected` when the status alone does not say it. */
    readonly rejection?: UploadRejection,
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

const SPEC = 'See https://packaging.python.org/specifications/core-metadata for more information.';

/** Metadata versions the core metadata spec has defined. */
const METADATA_VERSIONS = new Set(['1.0', '1.1', '1.2', '2.0', '2.1', '2.2', '2.3', '2.4', '2.5']);

/**
 * Core-metadata fields the form may carry (lower-case, `-` → `_`, multi-use ones plural), kept
 * on the release as its metadata. `name`, `version`, `summary`, `description`,
 * `description_content_type`, `requires_python` and `metadata_version` have their own columns.
 */
const SINGLE_FIELDS = [
  'author',
  'author_email',
  'maintainer',
  'maintainer_email',
  'license',
  'license_expression',
  'keywords',
  'home_page',
  'download_url',
];
const LIST_FIELDS = [
  'classifiers',
  'platform',
  'supported_platform',
  'requires_dist',
  'provides_dist',
  'obsoletes_dist',
  'requires_external',
  'project_urls',
  'provides_extra',
  'dynamic',
  'license_file',
];

export interface UploadForm {
  name: string;
  versionInput: string;
  version: Version;
  filetype: PackageType;
  pyversion: string;
  metadataVersion: string;
  digests: { md5?: string; sha256?: string; blake2b256?: string };
  summary: string | null;
  description: string | null;
  descriptionContentType: string | null;
  requiresPython: string | null;
  comment: string | null;
  metadata: Record<string, string | string[]>;
}

/** One value of a field: the first non-empty one; `UNKNOWN` counts as absent (distutils). */
export function single(fields: Map<string, string[]>, key: string): string | null {
  const values = fields.get(key);
  if (!values) return null;
  const value = values.find((v) => v.trim() !== '' && v.trim() !== 'UNKNOWN');
  return value === undefined ? null : value;
}

function list(fields: Map<string, string[]>, key: string): string[] {
  return (fields.get(key) ?? []).filter((v) => v.trim() !== '' && v.trim() !== 'UNKNOWN');
}

/** The `:action` and `protocol_version` checks that come before anything else (Warehouse order). */
export function checkAction(fields: Map<string, string[]>): void {
  const action = single(fields, ':action');
  if (action === 'submit' || action === 'submit_pkg_info') {
    throw new UploadError(
      'Project pre-registration is no longer required or supported, upload your files instead.',
      410,
    );
  }
  if (action === 'doc_upload') {
    throw new UploadError(
      'Uploading documentation is no longer supported, we recommend using https://readthedocs.org/.',
      410,
    );
  }
  if (action !== 'file_upload') {
    throw new UploadError("Unknown or missing ':action': use 'file_upload'.");
  }
  const protocol = single(fields, 'protocol_version') ?? '1';
  if (protocol !== '1') throw new UploadError('Unknown protocol version.');
}

/** Whether the form has what {@link parseUploadForm} needs (it may still be invalid). */
export function hasRequiredFields(fields: Map<string, string[]>): boolean {
  return ['name', 'version', 'filetype', 'metadata_version'].every((k) => fields.has(k));
}

/**
 * Validates the form as Warehouse's `UploadForm` does, in its order (metadata version, name,
 * version, then the rest) and with its messages.
 */
export function parseUploadForm(
  fields: Map<string, string[]>,
  options: { allowLocalVersions: boolean },
): UploadForm {
  checkAction(fields);
  const metadataVersion = single(fields, 'metadata_version');
  if (!metadataVersion) {
    throw new UploadError(`'metadata_version' is a required field. ${SPEC}`);
  }
  if (!METADATA_VERSIONS.has(metadataVersion)) {
    throw new UploadError(`'${metadataVersion}' is not a valid metadata version. ${SPEC}`);
  }
  const name = single(fields, 'name');
  if (!name) {
    throw new UploadError(
      `'' is an invalid value for Name. Error: This field is required. ${SPEC}`,
    );
  }
  if (!isValidProjectName(name)) {
    throw new UploadError(
      `'${name}' is an invalid value for Name. Error: Start and end with a letter or numeral containing only ASCII numeric and '.', '_' and '-'. ${SPEC}`,
    );
  }
  const versionInput = single(fields, 'version');
  if (!versionInput) throw new UploadError(`'version' is a required field. ${SPEC}`);
  const version = tryParseVersion(versionInput);
  if (!version || versionInput.length > 100) {
    throw new UploadError(`'${versionInput}' is invalid for 'version'. ${SPEC}`);
  }
  if (version.local && !options.allowLocalVersions) {
    throw new UploadError(
      `The use of local versions in '${versionInput}' is not allowed. See https://packaging.python.org/en/latest/specifications/version-specifiers/#local-version-identifiers for more information.`,
    );
  }
  const filetype = single(fields, 'filetype');
  if (filetype !== 'sdist' && filetype !== 'bdist_wheel') {
    throw new UploadError('Invalid value for filetype. Error: Use a known file type.');
  }
  let pyversion = single(fields, 'pyversion') ?? '';
  if (filetype === 'bdist_wheel' && !pyversion) {
    throw new UploadError(
      'Invalid value for pyversion. Error: Python version is required for binary distribution uploads.',
    );
  }
  if (filetype === 'sdist') {
    // twine 4 sends an empty pyversion for sdists; Warehouse takes that as `source`.
    if (pyversion && pyversion !== 'source') {
      throw new UploadError(
        "Invalid value for pyversion. Error: Use 'source' as Python version for an sdist.",
      );
    }
    pyversion = 'source';
  }
  const md5 = single(fields, 'md5_digest')?.toLowerCase();
  const sha256 = single(fields, 'sha256_digest')?.toLowerCase();
  const blake2b256 = single(fields, 'blake2_256_digest')?.toLowerCase();
  if (!md5 && !sha256 && !blake2b256) {
    throw new UploadError('Error: Include at least one message digest.');
  }
  if (md5 && !/^[0-9a-f]{32}$/.test(md5)) {
    throw new UploadError(
      'Invalid value for md5_digest. Error: Use a valid, hex-encoded, MD5 message digest.',
    );
  }
  if (sha256 && !/^[0-9a-f]{64}$/.test(sha256)) {
    throw new UploadError(
      'Invalid value for sha256_digest. Error: Use a valid, hex-encoded, SHA256 message digest.',
    );
  }
  if (blake2b256 && !/^[0-9a-f]{64}$/.test(blake2b256)) {
    throw new UploadError(
      'Invalid value for blake2_256_digest. Error: Use a valid, hex-encoded, BLAKE2 message digest.',
    );
  }
  const summary = single(fields, 'summary');
  if (summary !== null && summary.length > 512) {
    throw new UploadError(`'summary' field must be 512 characters or less. ${SPEC}`);
  }
  if (summary !== null && /[\r\n]/.test(summary)) {
    throw new UploadError(`'summary' must be a single line. ${SPEC}`);
  }
  const requiresPython = single(fields, 'requires_python')?.trim() ?? null;
  if (requiresPython !== null && !isValidSpecifierSet(requiresPython)) {
    throw new UploadError(`'${requiresPython}' is invalid for 'requires_python'. ${SPEC}`);
  }
  const metadata: Record<string, string | string[]> = {};
  for (const key of SINGLE_FIELDS) {
    const value = single(fields, key);
    if (value !== null) metadata[key] = value;
  }
  for (const key of LIST_FIELDS) {
    const values = list(fields, key);
    if (values.length > 0) metadata[key] = values;
  }
  return {
    name,
    versionInput,
    version,
    filetype,
    pyversion,
    metadataVersion,
    digests: { md5, sha256, blake2b256 },
    summary,
    description: single(fields, 'description'),
    descriptionContentType: single(fields, 'description_content_type'),
    requiresPython,
    comment: single(fields, 'comment'),
    metadata,
  };
}
