import { IsBoolean, IsInt, IsString, Matches, Max, Min, ValidateIf } from 'class-validator';

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

  /**
   * `…_STREAM_POLL_MS=2000`: how often this node's streaming worker looks for due deliveries
   * (events the search copy's job has just queued wake it at once). 0: this node runs no worker.
   */
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  streamPollMs = 2000;

  /**
   * `…_SEARCH_DELAY_MS=500`: how soon after this node's audited commits the admin log's search
   * copy catches up (audit.search.ts): events of that moment are copied in one batch.
   */
  @IsInt()
  @Min(0)
  @Max(60_000)
  searchDelayMs = 500;

  /**
   * `…_SEARCH_POLL_MS=5000`: how often it also catches up with no commit of its own (other
   * nodes' events, a node that was down). 0: only after this node's commits.
   */
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  searchPollMs = 5000;

  /** `…_STREAM_RETRY_MS=1000`: wait before the first retry of a failed delivery; doubles each time. */
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  streamRetryMs = 1000;

  /** `…_STREAM_RETRY_MAX_MS=300000`: the longest wait between retries. */
  @IsInt()
  @Min(10)
  @Max(86_400_000)
  streamRetryMaxMs = 300_000;

  /** `…_STREAM_TIMEOUT_MS=10000`: a webhook that has not answered by then failed. */
  @IsInt()
  @Min(100)
  @Max(300_000)
  streamTimeoutMs = 10_000;

  /**
   * `…_STREAM_ALLOW_PRIVATE=false`: let webhooks reach loopback, link-local (cloud metadata),
   * private, unspecified and multicast addresses. Off, a destination is refused at `add` and at
   * each connection when its host is (or resolves to) one.
   */
  @IsBoolean()
  streamAllowPrivate = false;

  /**
   * `…_STREAM_DIR=/var/log/larder`: the one directory file destinations are written in (created
   * 0700). Empty: `<LARDER_DATA_DIR>/audit-streams`.
   */
  @IsString()
  @ValidateIf((o: AuditOptions) => o.streamDir !== '')
  @Matches(/^\//, { message: 'must be an absolute path' })
  streamDir = '';
}
