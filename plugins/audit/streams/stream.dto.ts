import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

/** The "Add a destination" form on /admin/audit/streams/. */
export class AddStreamDto {
  @Matches(/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,99}$/, {
    message: 'name must be 1 to 100 letters, digits, spaces, dots, dashes or underscores',
  })
  name: string;

  @IsIn(['webhook', 'file'], { message: 'kind must be webhook or file' })
  kind: 'webhook' | 'file';

  /** An http(s) URL for a webhook, a file name in the stream directory for a file (checked by the service). */
  @IsString()
  @MinLength(1, { message: 'target must be a URL or a file name' })
  @MaxLength(2000)
  target: string;

  /** Tag prefixes separated by commas or spaces; empty: every event. */
  @IsOptional()
  @Matches(/^[a-z0-9_:, ]*$/, {
    message: 'event types must be tag prefixes such as account: or project:release:',
  })
  @MaxLength(1000)
  tags?: string;

  @IsOptional() @IsString() @MaxLength(200) secret?: string;
}
