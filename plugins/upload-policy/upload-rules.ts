import type { UploadPolicyOptions } from './upload-policy.options.js';

const MB = 1024 * 1024;

/** PEP 503: runs of `-`, `_` and `.` collapse to `-`, lower case. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/** `*.whl` → /^[^/]*\.whl$/: `*` any run of characters, `?` one character, the rest literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

export interface Upload {
  projectName: string;
  filename: string;
  size: number;
  /** Who uploads (a user, or a token's owner); `null` when no account acts. */
  username: string | null;
}

const megabytes = (bytes: number) => `${(bytes / MB).toFixed(1).replace(/\.0$/, '')} MB`;

/**
 * The policy, as a pure function: the reason to refuse `upload`, or `null` to let it through.
 * Reasons are one sentence each, since twine prints them as the upload's error.
 */
export class UploadRules {
  private readonly patterns: RegExp[];
  private readonly projectLimits: Map<string, number>;
  private readonly reserved: Array<{ prefix: string; users: Set<string> }>;

  constructor(private readonly options: UploadPolicyOptions) {
    this.patterns = options.allowedFilenames.map(globToRegExp);
    this.projectLimits = new Map(
      Object.entries(options.projectMaxFileSizeMb).map(([name, mb]) => [normalizeName(name), mb]),
    );
    this.reserved = Object.entries(options.reservedPrefixes).map(([prefix, users]) => ({
      prefix: normalizeName(prefix),
      users: new Set(users.map((u) => u.toLowerCase())),
    }));
  }

  check(upload: Upload): string | null {
    const project = normalizeName(upload.projectName);
    for (const { prefix, users } of this.reserved) {
      if (
        project.startsWith(prefix) &&
        !(upload.username && users.has(upload.username.toLowerCase()))
      ) {
        return `project names starting with "${prefix}" are reserved; ${upload.username ?? 'an anonymous client'} may not upload to ${project}.`;
      }
    }
    if (this.patterns.length > 0 && !this.patterns.some((p) => p.test(upload.filename))) {
      return `${upload.filename} is not an allowed filename; files must match ${this.options.allowedFilenames.join(' or ')}.`;
    }
    const limitMb = this.projectLimits.get(project) ?? this.options.maxFileSizeMb;
    if (limitMb > 0 && upload.size > limitMb * MB) {
      return `${upload.filename} is ${megabytes(upload.size)}; files of ${project} may be at most ${megabytes(limitMb * MB)}.`;
    }
    return null;
  }
}
