import { IsInt, IsString, Matches, Max, Min, MinLength } from 'class-validator';

/** Set with `LARDER_PLUGIN_NOTIFY_EMAIL_<OPTION>`. */
export class NotifyEmailOptions {
  /** `…_SMTP_URL=smtps://user:pass@mail.example.com:465`: where mail goes (required). */
  @Matches(/^smtps?:\/\/[^/]+/, { message: 'must be an smtp:// or smtps:// URL' })
  smtpUrl = '';

  /** `…_FROM="Larder <larder@example.com>"`: the sender. */
  @IsString()
  @MinLength(3)
  from = 'Larder <larder@localhost>';

  /** `…_RETRIES=3`: further attempts after a failed send. */
  @IsInt()
  @Min(0)
  @Max(10)
  retries = 3;

  /** `…_RETRY_DELAY_MS=2000`: wait before the first retry; it doubles for each next one. */
  @IsInt()
  @Min(1)
  @Max(600_000)
  retryDelayMs = 2000;
}
