import { IsInt, Max, Min } from 'class-validator';

/** Set with `LARDER_PLUGIN_AUDIT_<OPTION>` (docs/audit.md). */
export class AuditOptions {
  /** `…_CHECKPOINT_EVERY=10000`: sign the chain head after this many new events. */
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  checkpointEvery = 10_000;

  /** `…_CHECKPOINT_MINUTES=60`: and at least this often while events keep coming. */
  @IsInt()
  @Min(1)
  @Max(60 * 24 * 7)
  checkpointMinutes = 60;
}
