import { normalizeName } from './names.js';
import { compareVersions, normalizeVersion, tryParseVersion, type Version } from './version.js';

/** A distribution filename that cannot be accepted; the message is shown to the uploader. */
export class InvalidFilenameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidFilenameError';
  }
}

export type PackageType = 'sdist' | 'bdist_wheel';

export interface WheelFilename {
  /** The name part as written in the filename. */
  namePart: string;
  /** PEP 503 normalised name. */
  name: string;
  versionPart: string;
  version: Version;
  /** PEP 427 build tag: a leading number and the rest, or null. */
  build: { number: number; rest: string } | null;
  /** The python tag(s) exactly as written (`py2.py3`): PyPI's `python_version`. */
  pythonTag: string;
  abiTag: string;
  platformTag: string;
  /** Every tag the compressed set expands to (PEP 425: `py2.py3-none-any` is two tags). */
  tags: string[];
}

export interface SdistFilename {
  namePart: string;
  name: string;
  versionPart: string;
  version: Version;
  extension: '.tar.gz' | '.zip';
  /** Exactly `{name with _}-{normalised version}.tar.gz` (PEP 625). */
  pep625: boolean;
}

const MAX_FILENAME_LENGTH = 255;

/**
 * Characters no distribution filename may carry (Warehouse's upload checks): control
 * characters, DEL, and path separators — the filename becomes part of a storage path and a URL.
 */
export function checkFilenameCharacters(filename: string): void {
  if (filename.length === 0) throw new InvalidFilenameError('The uploaded file has no filename.');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(filename)) {
    throw new InvalidFilenameError(
      'Cannot upload a file with non-printable characters (ordinals 0-31) or the DEL character (ordinal 127) in the name.',
    );
  }
  if (/[/\\]/.test(filename)) {
    throw new InvalidFilenameError("Cannot upload a file with '/' or '\\' in the name.");
  }
  if (filename === '.' || filename === '..' || filename.startsWith('.')) {
    throw new InvalidFilenameError(`Invalid filename '${filename}': it may not start with '.'.`);
  }
  if (filename.length > MAX_FILENAME_LENGTH) {
    throw new InvalidFilenameError(
      `Invalid filename: longer than ${MAX_FILENAME_LENGTH} characters.`,
    );
  }
  // Anything outside printable ASCII has no place in a wheel or sdist name.
  if (!/^[\x20-\x7e]+$/.test(filename)) {
    throw new InvalidFilenameError(`Invalid filename '${filename}': use ASCII characters only.`);
  }
}

/**
 * PEP 427 (+ PEP 491 build tags) as `packaging.utils.parse_wheel_filename`:
 * `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`.
 */
export function parseWheelFilename(filename: string): WheelFilename {
  if (!filename.endsWith('.whl')) {
    throw new InvalidFilenameError(
      `Invalid wheel filename (extension must be '.whl'): '${filename}'`,
    );
  }
  const stem = filename.slice(0, -4);
  const parts = stem.split('-');
  if (parts.length !== 5 && parts.length !== 6) {
    throw new InvalidFilenameError(`Invalid wheel filename (wrong number of parts): '${stem}'`);
  }
  const [namePart, versionPart] = parts;
  // The name component is escaped to [A-Za-z0-9_.] by tools (PEP 427); `__` is never produced.
  if (!/^[A-Za-z0-9._]+$/.test(namePart) || namePart.includes('__')) {
    throw new InvalidFilenameError(`Invalid project name: '${filename}'`);
  }
  const version = tryParseVersion(versionPart);
  if (!version || /\s/.test(versionPart)) {
    throw new InvalidFilenameError(`Invalid wheel filename (invalid version): '${filename}'`);
  }
  let build: WheelFilename['build'] = null;
  if (parts.length === 6) {
    // PEP 427: the build tag must start with a digit.
    const match = /^(\d+)(.*)$/.exec(parts[2]);
    if (!match) {
      throw new InvalidFilenameError(`Invalid build number: ${parts[2]} in '${stem}'`);
    }
    build = { number: Number(match[1]), rest: match[2] };
  }
  const [pythonTag, abiTag, platformTag] = parts.slice(-3);
  const sets = [pythonTag, abiTag, platformTag].map((tag) => tag.split('.'));
  if (sets.some((set) => set.some((tag) => !/^[A-Za-z0-9_]+$/.test(tag)))) {
    throw new InvalidFilenameError(`Invalid wheel filename (invalid tag): '${filename}'`);
  }
  const tags: string[] = [];
  for (const py of sets[0]) {
    for (const abi of sets[1]) {
      for (const plat of sets[2]) tags.push(`${py}-${abi}-${plat}`.toLowerCase());
    }
  }
  return {
    namePart,
    name: normalizeName(namePart),
    versionPart,
    version,
    build,
    pythonTag,
    abiTag,
    platformTag,
    tags,
  };
}

/**
 * sdist names: PEP 625's `{name}-{version}.tar.gz`, plus what older setuptools and distutils
 * still write — an unnormalised name that may itself contain `-` (`acme-widgets-1.0.tar.gz`)
 * and the `.zip` format. The split point is found from `expectedName`: the prefix must
 * normalise to it (PEP 503), and the rest must be a version. Without an expected name, the
 * split is at the last `-` (`packaging.utils.parse_sdist_filename`).
 */
export function parseSdistFilename(filename: string, expectedName?: string): SdistFilename {
  let extension: SdistFilename['extension'];
  if (filename.endsWith('.tar.gz')) extension = '.tar.gz';
  else if (filename.endsWith('.zip')) extension = '.zip';
  else {
    throw new InvalidFilenameError(
      `Invalid source distribution filename (extension must be '.tar.gz' or '.zip'): '${filename}'`,
    );
  }
  const stem = filename.slice(0, -extension.length);
  const dashes = [...stem.matchAll(/-/g)].map((m) => m.index!);
  if (dashes.length === 0) {
    throw new InvalidFilenameError(`Invalid source distribution filename: '${filename}'`);
  }
  let split = dashes[dashes.length - 1];
  if (expectedName !== undefined) {
    const wanted = normalizeName(expectedName);
    const found = dashes.find((at) => normalizeName(stem.slice(0, at)) === wanted);
    if (found !== undefined) split = found;
  }
  const namePart = stem.slice(0, split);
  const versionPart = stem.slice(split + 1);
  if (!/^[A-Za-z0-9._-]+$/.test(namePart)) {
    throw new InvalidFilenameError(`Invalid source distribution filename: '${filename}'`);
  }
  const version = tryParseVersion(versionPart);
  if (!version || /\s/.test(versionPart)) {
    throw new InvalidFilenameError(
      `Invalid source distribution filename (invalid version '${versionPart}'): '${filename}'`,
    );
  }
  const name = normalizeName(namePart);
  return {
    namePart,
    name,
    versionPart,
    version,
    extension,
    pep625:
      extension === '.tar.gz' &&
      namePart === name.replace(/-/g, '_') &&
      versionPart === normalizeVersion(version),
  };
}

export interface ParsedDistribution {
  packagetype: PackageType;
  /** `source` for sdists, the wheel's python tag(s) otherwise (PyPI's `python_version`). */
  pythonVersion: string;
  wheel: WheelFilename | null;
  sdist: SdistFilename | null;
}

/**
 * Checks an upload's filename against its declared file type, project name and version, in
 * Warehouse's words where it has them.
 */
export function checkDistributionFilename(
  filename: string,
  filetype: PackageType,
  projectName: string,
  version: string,
): ParsedDistribution {
  checkFilenameCharacters(filename);
  const isWheel = filename.endsWith('.whl');
  const isSdist = filename.endsWith('.tar.gz') || filename.endsWith('.zip');
  // PEP 527 / PEP 715: only wheels and .tar.gz/.zip sdists are accepted.
  if (!isWheel && !isSdist) {
    throw new InvalidFilenameError(
      'Invalid file extension: Use .tar.gz, .whl or .zip extension. See https://www.python.org/dev/peps/pep-0527 and https://peps.python.org/pep-0715/ for more information',
    );
  }
  if ((filetype === 'sdist') !== isSdist) {
    const extension = isWheel ? '.whl' : filename.endsWith('.zip') ? '.zip' : '.tar.gz';
    throw new InvalidFilenameError(
      `Invalid file extension: Extension ${extension} is invalid for filetype ${filetype}. See https://www.python.org/dev/peps/pep-0527 for more information.`,
    );
  }
  const wanted = normalizeName(projectName);
  const declared = tryParseVersion(version);
  if (filetype === 'bdist_wheel') {
    const wheel = parseWheelFilename(filename);
    if (wheel.name !== wanted) {
      throw new InvalidFilenameError(
        `Start filename for '${projectName}' with '${wanted.replace(/-/g, '_')}'.`,
      );
    }
    if (!declared || compareVersions(wheel.version, declared) !== 0) {
      throw new InvalidFilenameError(
        `Version in filename should be '${declared ? normalizeVersion(declared) : version}' not '${wheel.versionPart}'.`,
      );
    }
    return { packagetype: filetype, pythonVersion: wheel.pythonTag, wheel, sdist: null };
  }
  const sdist = parseSdistFilename(filename, projectName);
  if (sdist.name !== wanted) {
    throw new InvalidFilenameError(
      `Start filename for '${projectName}' with '${wanted.replace(/-/g, '_')}'.`,
    );
  }
  if (!declared || compareVersions(sdist.version, declared) !== 0) {
    throw new InvalidFilenameError(
      `Version in filename should be '${declared ? normalizeVersion(declared) : version}' not '${sdist.versionPart}'.`,
    );
  }
  return { packagetype: filetype, pythonVersion: 'source', wheel: null, sdist };
}
