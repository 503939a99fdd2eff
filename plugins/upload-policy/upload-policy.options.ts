import { IsArray, IsNumber, IsString, Min, ValidateBy } from 'class-validator';

const isMap = (check: (value: unknown) => boolean, what: string) =>
  ValidateBy({
    name: 'isMap',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        Object.values(value).every(check),
      defaultMessage: () => `must be a JSON object of ${what}`,
    },
  });

/**
 * Set with `LARDER_PLUGIN_UPLOAD_POLICY_<OPTION>`; every rule is off until configured.
 * Sizes are in MB of 1,048,576 bytes, as PyPI counts them.
 */
export class UploadPolicyOptions {
  /** `…_MAX_FILE_SIZE_MB=50`: the largest file any project may upload; 0 means no limit. */
  @IsNumber()
  @Min(0)
  maxFileSizeMb = 0;

  /** `…_PROJECT_MAX_FILE_SIZE_MB={"big-model":500,"tiny":1}`: per-project limits, over the global one. */
  @isMap((mb) => typeof mb === 'number' && mb >= 0, 'project names to MB')
  projectMaxFileSizeMb: Record<string, number> = {};

  /** `…_ALLOWED_FILENAMES=*.whl,*.tar.gz`: filenames must match one of these globs (`*`, `?`). */
  @IsArray()
  @IsString({ each: true })
  allowedFilenames: string[] = [];

  /**
   * `…_RESERVED_PREFIXES={"acme-":["alice","bob"]}`: only the named users may upload to
   * projects whose name starts with the prefix.
   */
  @isMap(
    (users) => Array.isArray(users) && users.every((u) => typeof u === 'string'),
    'prefixes to lists of usernames',
  )
  reservedPrefixes: Record<string, string[]> = {};
}
