import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { DataSource } from 'typeorm';
import {
  CONFIG,
  LOGGER,
  PluginContext,
  type Config,
  type Logger,
} from '../../../src/plugin-api/index.js';
import type { AuditOptions } from '../audit.options.js';
import { eventsByIds, type StoredEvent } from '../audit.queries.js';
import { AuditSearch } from '../audit.search.js';
import { AuditExporter } from '../export/audit-exporter.js';
import { AuditStreamDestination } from './stream.entities.js';
import { claimDue, markDelivered, markFailed, type ClaimedEntry } from './stream.queries.js';
import { openSecret, signature } from './stream-secret.js';
import { appendToStreamFile, guardedLookup, refuseLiteral, streamDirOf } from './stream-guard.js';

/** Entries claimed per round. */
const CLAIM = 20;

/**
 * Delivers the outbox (one worker per app node). Claims are leases taken with SKIP LOCKED, so
 * nodes share the work and each entry goes out once per destination; a failure is retried
 * with exponential backoff, and a node that dies mid-delivery lets another retry after the
 * lease (at-least-once: receivers de-duplicate on `X-Larder-Event-Id`). A webhook's events go
 * out in id order: after a failure, that destination's later events wait too.
 */
@Injectable()
export class AuditStreamWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private unsubscribe?: () => void;
  /**
   * Whether an unpaused destination existed at the last poll (true until the first): a
   * destination added since, on any node, is served from the next poll on.
   */
  private destinations = true;
  /** Keep-alive connections; unless private addresses are allowed, every connect is checked. */
  private agents?: { http: HttpAgent; https: HttpsAgent };

  constructor(
    private readonly dataSource: DataSource,
    private readonly search: AuditSearch,
    private readonly exporter: AuditExporter,
    private readonly plugin: PluginContext<AuditOptions>,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private get options(): AuditOptions {
    return this.plugin.options;
  }

  onApplicationBootstrap(): void {
    if (this.options.streamPollMs === 0) return;
    this.timer = setInterval(() => void this.poll(), this.options.streamPollMs);
    this.timer.unref();
    // New events: look as soon as they are queued (AuditSearch copies them, and queues them
    // in the outbox, a moment after they commit), not at the next poll — when there is
    // anywhere to send them (most indexes stream nowhere: no query then).
    this.unsubscribe = this.search.onCopied(() => {
      if (this.destinations) setImmediate(() => this.wake()).unref();
    });
  }

  private async poll(): Promise<void> {
    try {
      const [{ any }]: Array<{ any: boolean }> = await this.dataSource.query(
        'SELECT EXISTS (SELECT 1 FROM audit_stream_destinations WHERE NOT paused) AS "any"',
      );
      this.destinations = any;
    } catch {
      this.destinations = true; // unknown: look on every commit
    }
    // Nowhere to stream (most indexes): no round, so an idle node runs one query a poll, not
    // a search catch-up and an outbox claim as well. Paused destinations' entries wait for
    // the poll that finds them resumed.
    if (this.destinations) this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
    await this.running;
    this.agents?.http.destroy();
    this.agents?.https.destroy();
  }

  /** Starts a round unless one runs (then another follows it). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error) => this.logger.error({ err: error }, 'audit streaming round failed'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Delivers until nothing is due. Resolves when done: tests await it. */
  async drain(): Promise<void> {
    // Everything committed so far is queued first (the outbox is filled with the search copy).
    await this.search.catchUp();
    const lease = CLAIM * this.options.streamTimeoutMs + 30_000;
    while (!this.stopped) {
      const claimed = await claimDue(this.dataSource.manager, CLAIM, lease);
      if (claimed.length === 0) return;
      const byDestination = new Map<string, ClaimedEntry[]>();
      for (const entry of claimed) {
        const list = byDestination.get(entry.destinationId) ?? [];
        list.push(entry);
        byDestination.set(entry.destinationId, list);
      }
      for (const [destinationId, entries] of byDestination) {
        await this.deliver(destinationId, entries);
      }
    }
  }

  private retryDelay = (attempts: number): number =>
    Math.min(this.options.streamRetryMs * 2 ** (attempts - 1), this.options.streamRetryMaxMs);

  private async deliver(destinationId: string, entries: ClaimedEntry[]): Promise<void> {
    const manager = this.dataSource.manager;
    const destination = await manager.findOneBy(AuditStreamDestination, { id: destinationId });
    if (!destination) {
      await manager.query('DELETE FROM audit_outbox WHERE destination_id = $1', [destinationId]);
      return;
    }
    const events = await eventsByIds(
      manager,
      entries.map((e) => e.eventId),
    );
    const byId = new Map(events.map((e) => [e.id, e]));
    const names = await this.exporter.usernamesOf(events);
    const done: string[] = [];
    let failure: { error: string; from: number } | null = null;
    if (destination.kind === 'file') {
      const lines = entries
        .map((entry) => byId.get(entry.eventId))
        .filter((event): event is StoredEvent => !!event)
        .map((event) => `${JSON.stringify(this.exporter.row(event, names))}\n`)
        .join('');
      try {
        await appendToStreamFile(streamDirOf(this.options, this.config), destination.target, lines);
        done.push(...entries.map((e) => e.id));
      } catch (error) {
        failure = { error: (error as Error).message, from: 0 };
      }
    } else {
      const secret = destination.secretSealed
        ? openSecret(this.config.secret, destination.secretSealed)
        : null;
      for (let i = 0; i < entries.length; i++) {
        const event = byId.get(entries[i].eventId);
        // Pruned since it was queued: nothing left to send.
        if (event) {
          const problem = await this.post(destination.target, secret, event, names);
          if (problem) {
            failure = { error: problem, from: i };
            break;
          }
        }
        done.push(entries[i].id);
      }
    }
    if (done.length) await markDelivered(manager, destinationId, done);
    if (failure) {
      const failed = entries.slice(failure.from);
      await markFailed(
        manager,
        destinationId,
        failed.map((e) => e.id),
        failure.error.slice(0, 500),
        this.retryDelay,
        Math.max(...failed.map((e) => e.attempts)),
      );
    }
  }

  /** One webhook delivery; the problem in words, or null when the receiver took it (2xx). */
  private async post(
    target: string,
    secret: string | null,
    event: StoredEvent,
    names: Map<string, string>,
  ): Promise<string | null> {
    const body = JSON.stringify(this.exporter.row(event, names));
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
      'User-Agent': 'Larder-Audit-Stream',
      'X-Larder-Event-Id': event.id,
    };
    if (secret) headers['X-Larder-Signature'] = signature(secret, body);
    const url = new URL(target);
    const allowPrivate = this.options.streamAllowPrivate;
    // A literal IP is connected to without a lookup, so it is checked here.
    const literal = allowPrivate ? null : refuseLiteral(url);
    if (literal) return `refused: ${literal}`;
    this.agents ??= {
      http: new HttpAgent({ keepAlive: true }),
      https: new HttpsAgent({ keepAlive: true }),
    };
    const signal = AbortSignal.timeout(this.options.streamTimeoutMs);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    try {
      // node:http rather than fetch: its `lookup` sees the addresses actually connected to
      // (undici is not a dependency). It follows no redirects: a 3xx is a failure.
      const status = await new Promise<number>((ok, fail) => {
        const req = send(url, {
          method: 'POST',
          headers,
          agent: url.protocol === 'https:' ? this.agents!.https : this.agents!.http,
          lookup: allowPrivate ? undefined : guardedLookup,
          signal,
        });
        req.on('response', (res) => {
          res.resume(); // drain the body so the connection is reused
          ok(res.statusCode ?? 0);
        });
        req.on('error', fail);
        req.end(body);
      });
      return status >= 200 && status < 300 ? null : `HTTP ${status} from the receiver`;
    } catch (error) {
      if (signal.aborted) return 'timed out';
      const code = (error as NodeJS.ErrnoException).code;
      const message = (error as Error).message;
      return code && !message.includes(code) ? `${message} (${code})` : message;
    }
  }
}
