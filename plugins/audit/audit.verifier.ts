import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type QueryRunner } from 'typeorm';
import { CONFIG, type Config } from '../../src/plugin-api/index.js';
import { AuditCheckpoint } from './audit-checkpoint.entity.js';
import { AuditSigner } from './audit.signer.js';
import {
  GENESIS,
  OCCURRED_AT_SQL,
  ipKey,
  rowHash,
  rowHashHex,
  CANONICAL_HEAD_SQL,
  canonicalFromHead,
  type ChainFields,
} from './chain/canonical.js';

/** What broke, and where: the first problem the walk meets. */
export interface ChainProblem {
  kind: 'edited' | 'deleted' | 'inserted' | 'reordered' | 'checkpoint' | 'truncated';
  /** The row named, when a row is. */
  rowId?: string;
  /** The checkpoint named, when one is. */
  checkpointId?: string;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  rows: number;
  firstId: string | null;
  lastId: string | null;
  checkpoints: number;
  /** Rows at the start written before the chain existed (no hash): not covered by it. */
  unchained: number;
  problem?: ChainProblem;
  seconds: number;
}

export interface VerifyOptions {
  /** Start at this id; its `prev_hash` is then taken on trust. */
  fromId?: string;
  batchSize?: number;
  /** Called after each batch: rows done, and the id range (for a progress bar). */
  onProgress?: (progress: { rows: number; lastId: string; minId: string; maxId: string }) => void;
}

export interface ChainRow extends ChainFields {
  ip: string | null;
  prevHash: Buffer | null;
  hash: Buffer | null;
}

/** Batches read ahead while one is hashed. */
const READ_AHEAD = 3;

/** The hashed fields, plus IP and hashes, as the walk reads them. */
export const CHAIN_SELECT = `SELECT id::text AS id, ${OCCURRED_AT_SQL} AS "occurredAt", tag,
  actor_id AS "actorId", actor_name AS "actorName", actor_kind AS "actorKind",
  actor_token_id AS "actorTokenId", actor_token_name AS "actorTokenName",
  actor_two_factor AS "actorTwoFactor", user_id AS "userId", project_id AS "projectId",
  project_name AS "projectName", host(ip) AS ip, ip_hash AS "ipHash", user_agent AS "userAgent",
  request_id AS "requestId", additional, plugin, prev_hash AS "prevHash", hash
  FROM audit_events`;

/**
 * The same for the walk's fast scan, as text read with no type parsing: the canonical text up to
 * `additional` (rendered by PostgreSQL), the IP, and the hashes as hex whatever `bytea_output` says.
 */
const SCAN_SELECT = `SELECT id::text, ${CANONICAL_HEAD_SQL}, host(ip), encode(ip_hash, 'hex'),
  additional, plugin, encode(prev_hash, 'hex'), encode(hash, 'hex')
  FROM audit_events WHERE id > $1 AND id <= $2 ORDER BY audit_events.id`;
type ScanRow = Array<string | null>;
const additional = (r: ScanRow): unknown =>
  r[ADDITIONAL] === null ? null : JSON.parse(r[ADDITIONAL]);
const [ID, HEAD, IP, IP_HASH, ADDITIONAL, PLUGIN, PREV_HASH, HASH] = [0, 1, 2, 3, 4, 5, 6, 7];

/** Decimal ids without leading zeros, compared without BigInt. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** What the fast scan of one id range found: enough to join it to the walk. */
interface RangeScan {
  from: bigint;
  to: bigint;
  /** Every row passed every check `checkRow` makes, and every checkpoint in the range held. */
  clean: boolean;
  rows: number;
  first?: ScanRow;
  last?: ScanRow;
  /** The hash of the row before `last`. */
  beforeLastHash?: string;
  checkpoints: number;
}

/** The pg client of a query runner, as far as the scan uses it. */
interface PgClient {
  query(query: unknown): unknown;
}
interface PgQuery {
  on(event: 'row', listener: (row: ScanRow) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}
type PgQueryClass = new (config: {
  text: string;
  values: string[];
  rowMode: 'array';
  types: { getTypeParser: () => (value: string) => string };
}) => PgQuery;
const asText = { getTypeParser: () => (value: string) => value };

/**
 * `larder audit verify`: walks `audit_events` in id order in keyset batches (flat memory),
 * recomputing every hash and link, and checks every checkpoint's signature and that the row
 * it names still has the signed hash. Stops at the first problem and names it.
 */
@Injectable()
export class AuditVerifier {
  constructor(
    private readonly dataSource: DataSource,
    private readonly signer: AuditSigner,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    const started = process.hrtime.bigint();
    const batchSize = options.batchSize ?? 10_000;
    const checkpoints = await this.dataSource.getRepository(AuditCheckpoint).find({
      order: { headId: 'ASC', id: 'ASC' },
    });
    const [range]: Array<{ min: string | null; max: string | null }> = await this.dataSource.query(
      'SELECT min(id)::text AS min, max(id)::text AS max FROM audit_events WHERE id >= $1',
      [options.fromId ?? '0'],
    );
    const result: VerifyResult = {
      ok: true,
      rows: 0,
      firstId: null,
      lastId: null,
      checkpoints: 0,
      unchained: 0,
      seconds: 0,
    };
    const finish = (problem?: ChainProblem): VerifyResult => {
      result.ok = !problem;
      result.problem = problem;
      result.seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return result;
    };

    // Signatures first: a checkpoint that is not ours (edited, swapped, forged) is never trusted.
    for (const c of checkpoints) {
      const problem = this.checkSignature(c);
      if (problem) return finish(problem);
    }

    const firstId = range.min;
    let cpIndex = checkpoints.findIndex(
      (c) => firstId !== null && BigInt(c.headId) >= BigInt(firstId),
    );
    if (cpIndex < 0) cpIndex = checkpoints.length;

    let prev: Pick<ChainRow, 'id' | 'hash'> | undefined;
    let prevPrevHash: Buffer | undefined;
    let expected: Buffer | undefined;
    let pending: ChainRow | undefined;
    const cursor = options.fromId ? (BigInt(options.fromId) - 1n).toString() : '0';

    const step = (row: ChainRow, next: ChainRow | undefined): ChainProblem | undefined => {
      if (expected === undefined) {
        // Rows written before the chain was installed: only as a prefix, before any chained row.
        if (!row.hash && !row.prevHash) {
          result.unchained++;
          return undefined;
        }
        const start = this.start(row, checkpoints, options.fromId !== undefined);
        if (start.problem) return start.problem;
        expected = start.hash;
      }
      const problem = this.checkRow(row, next, prev, expected!, prevPrevHash);
      if (problem) return problem;
      // Checkpoints naming rows up to this one.
      while (
        cpIndex < checkpoints.length &&
        BigInt(checkpoints[cpIndex].headId) <= BigInt(row.id)
      ) {
        const c = checkpoints[cpIndex++];
        if (c.headId !== row.id) {
          return {
            kind: 'deleted',
            rowId: c.headId,
            checkpointId: c.id,
            message: `row ${c.headId} was deleted: checkpoint ${c.id} signed it, but it is gone`,
          };
        }
        const signed = c.kind === 'anchor' ? row.prevHash! : row.hash!;
        if (!signed.equals(c.headHash)) {
          return {
            kind: 'checkpoint',
            rowId: row.id,
            checkpointId: c.id,
            message:
              `checkpoint ${c.id} does not match row ${row.id}: the chain up to it was rewritten ` +
              `(${c.kind === 'anchor' ? 'prev_hash' : 'hash'} ${signed.toString('hex')}, signed ${c.headHash.toString('hex')})`,
          };
        }
        result.checkpoints++;
      }
      prevPrevHash = prev?.hash ?? undefined;
      prev = row;
      expected = row.hash!;
      result.rows++;
      result.firstId ??= row.id;
      result.lastId = row.id;
      return undefined;
    };

    const progress = (first: string, last: string) =>
      options.onProgress?.({
        rows: result.rows,
        lastId: last,
        minId: range.min ?? first,
        maxId: range.max ?? last,
      });
    const walk = (batch: ChainRow[]): ChainProblem | undefined => {
      for (const row of batch) {
        if (pending) {
          const problem = step(pending, row);
          if (problem) return problem;
        }
        pending = row;
      }
      if (batch.length > 0) progress(batch[0].id, batch[batch.length - 1].id);
      return undefined;
    };
    // PGlite is one connection; on a server, several backends read ranges while Node hashes.
    const poolSize = (this.dataSource.options as { extra?: { max?: number } }).extra?.max ?? 10;
    const runners = Array.from({ length: Math.max(1, Math.min(READ_AHEAD, poolSize)) }, () =>
      this.dataSource.createQueryRunner(),
    );
    // One query at a time on each connection (pg queues them, but deprecates doing so).
    const tails: Array<Promise<unknown>> = runners.map(() => Promise.resolve());
    const queued = <T>(lane: number, run: (runner: QueryRunner) => Promise<T>): Promise<T> => {
      const done = tails[lane].then(() => run(runners[lane]));
      tails[lane] = done.catch(() => undefined);
      return done;
    };
    const Query = (this.dataSource.driver as unknown as { postgres: { Query: PgQueryClass } })
      .postgres.Query;
    // The slow reads share the first runner: on PGlite there is no other connection.
    const read = (sql: string, params: string[]): Promise<ChainRow[]> =>
      queued(0, (runner) => runner.query(sql, params) as Promise<ChainRow[]>);

    /**
     * A range the fast scan found clean, joined to the walk: the same outcome as `walk` over its
     * rows, which holds when its first row links to the last one walked and no checkpoint before
     * the range is still waiting for a row. Otherwise false, and the range is walked row by row.
     */
    const join = async (scan: RangeScan): Promise<ChainProblem | false | undefined> => {
      if (!scan.clean) return false;
      if (!scan.first || !scan.last) return undefined; // no rows, and no checkpoint named one
      if (pending) {
        // The last row walked row by row is checked against the next, read in full.
        const [first] = await read(`${CHAIN_SELECT} WHERE id = $1`, [scan.first[ID]!]);
        if (!first) return false;
        const problem = step(pending, first);
        if (problem) return problem;
        pending = undefined;
      }
      if (
        expected === undefined ||
        scan.first[PREV_HASH] !== expected.toString('hex') ||
        (cpIndex < checkpoints.length && BigInt(checkpoints[cpIndex].headId) <= scan.from)
      ) {
        return false;
      }
      prevPrevHash =
        scan.beforeLastHash !== undefined
          ? Buffer.from(scan.beforeLastHash, 'hex')
          : (prev?.hash ?? undefined);
      prev = { id: scan.last[ID]!, hash: Buffer.from(scan.last[HASH]!, 'hex') };
      expected = prev.hash!;
      cpIndex += scan.checkpoints;
      result.checkpoints += scan.checkpoints;
      result.rows += scan.rows;
      result.firstId ??= scan.first[ID];
      result.lastId = prev.id;
      progress(scan.first[ID]!, prev.id);
      return undefined;
    };

    let stopped = false;
    const reads: Array<Promise<RangeScan>> = [];
    try {
      // Up to the last id at the start, the walk scans id ranges rather than keyset pages, so
      // several are read at once while Node hashes; ids are dense but for rolled-back
      // transactions, and a pruned prefix is skipped. A range the scan finds anything wrong in
      // (or cannot join) is read again and walked row by row, which names the problem.
      const max = range.max === null ? 0n : BigInt(range.max);
      let next = BigInt(cursor);
      if (range.min !== null && BigInt(range.min) - 1n > next) next = BigInt(range.min) - 1n;
      let scanned = 0;
      const readAhead = () => {
        while (reads.length < READ_AHEAD && next < max) {
          const from = next;
          next = from + BigInt(batchSize) < max ? from + BigInt(batchSize) : max;
          const to = next;
          const scan = queued(scanned++ % runners.length, (runner) =>
            this.scan(runner, Query, from, to, checkpoints, () => stopped),
          );
          scan.catch(() => undefined); // handled when awaited; the walk may stop before
          reads.push(scan);
        }
      };
      readAhead();
      while (reads.length > 0) {
        const scan = await reads.shift()!;
        readAhead();
        let problem = await join(scan);
        if (problem === false) {
          problem = walk(
            await read(`${CHAIN_SELECT} WHERE id > $1 AND id <= $2 ORDER BY audit_events.id`, [
              scan.from.toString(),
              scan.to.toString(),
            ]),
          );
        }
        if (problem) return finish(problem);
      }
      // Rows appended while the walk ran: keyset pages to the end.
      for (let after = next.toString(); ;) {
        const batch = await read(
          `${CHAIN_SELECT} WHERE id > $1 ORDER BY audit_events.id LIMIT $2`,
          [after, String(batchSize)],
        );
        const problem = walk(batch);
        if (problem) return finish(problem);
        if (batch.length < batchSize) break;
        after = batch[batch.length - 1].id;
      }
    } finally {
      stopped = true;
      await Promise.all(tails);
      await Promise.all(runners.map((r) => r.release()));
    }
    if (pending) {
      const problem = step(pending, undefined);
      if (problem) return finish(problem);
    }
    // A checkpoint beyond the last row: the tail it signed is gone.
    if (cpIndex < checkpoints.length) {
      const c = checkpoints[cpIndex];
      return finish({
        kind: 'truncated',
        rowId: c.headId,
        checkpointId: c.id,
        message:
          `the chain was truncated: checkpoint ${c.id} signed row ${c.headId}, ` +
          `but the last row is ${result.lastId ?? 'none'}`,
      });
    }
    return finish();
  }

  /**
   * Streams the rows with ids in (from, to] and runs `checkRow`'s and the checkpoints' checks on
   * each as it arrives, keeping none: holding a million rows' objects, even a few batches at a
   * time, cost more in garbage collection than the hashing.
   */
  private scan(
    runner: QueryRunner,
    Query: PgQueryClass,
    from: bigint,
    to: bigint,
    checkpoints: AuditCheckpoint[],
    stopped: () => boolean,
  ): Promise<RangeScan> {
    const signed = checkpoints
      .filter((c) => BigInt(c.headId) > from && BigInt(c.headId) <= to)
      .map((c) => ({
        headId: c.headId,
        column: c.kind === 'anchor' ? PREV_HASH : HASH,
        hash: c.headHash.toString('hex'),
      }));
    const scan: RangeScan = { from, to, clean: true, rows: 0, checkpoints: 0 };
    if (stopped()) return Promise.resolve({ ...scan, clean: false }); // read ahead, not needed
    const onRow = (r: ScanRow) => {
      if (!scan.clean || stopped()) return;
      const prevHash = r[PREV_HASH];
      const hash = r[HASH];
      const ip = r[IP];
      if (
        prevHash === null ||
        hash === null ||
        (scan.last && scan.last[HASH] !== prevHash) ||
        rowHashHex(prevHash, canonicalFromHead(r[HEAD]!, additional(r), r[PLUGIN]!)) !== hash ||
        (ip !== null && r[IP_HASH] !== this.ipKeyHex(ip))
      ) {
        scan.clean = false;
        return;
      }
      const id = r[ID]!;
      while (
        scan.checkpoints < signed.length &&
        compareIds(signed[scan.checkpoints].headId, id) <= 0
      ) {
        const c = signed[scan.checkpoints];
        if (c.headId !== id || r[c.column] !== c.hash) {
          scan.clean = false;
          return;
        }
        scan.checkpoints++;
      }
      if (scan.last) scan.beforeLastHash = scan.last[HASH]!;
      else scan.first = r;
      scan.last = r;
      scan.rows++;
    };
    return runner.connect().then(
      (client: PgClient) =>
        new Promise<RangeScan>((resolve, reject) => {
          const query = new Query({
            text: SCAN_SELECT,
            values: [from.toString(), to.toString()],
            rowMode: 'array',
            types: asText,
          });
          query.on('row', onRow);
          query.on('error', reject);
          query.on('end', () => {
            // A checkpoint in the range whose row is not there: the walk names it.
            if (scan.checkpoints < signed.length) scan.clean = false;
            resolve(scan);
          });
          client.query(query);
        }),
    );
  }

  /** Few distinct IPs, many rows: an HMAC per distinct IP, not per row. */
  private readonly ipKeys = new Map<string, Buffer>();
  private readonly ipKeysHex = new Map<string, string>();
  private ipKeyHex(ip: string): string {
    let key = this.ipKeysHex.get(ip);
    if (key === undefined) {
      if (this.ipKeysHex.size >= 50_000) this.ipKeysHex.clear();
      key = this.ipKey(ip).toString('hex');
      this.ipKeysHex.set(ip, key);
    }
    return key;
  }
  private ipKey(ip: string): Buffer {
    let key = this.ipKeys.get(ip);
    if (!key) {
      if (this.ipKeys.size >= 50_000) this.ipKeys.clear();
      key = ipKey(this.config.secret, ip);
      this.ipKeys.set(ip, key);
    }
    return key;
  }

  private checkSignature(c: AuditCheckpoint): ChainProblem | undefined {
    const statement = {
      id: c.id,
      kind: c.kind,
      headId: c.headId,
      headHash: c.headHash,
      signedAt: c.signedAt,
    };
    if (c.keyFingerprint !== this.signer.fingerprint) {
      return {
        kind: 'checkpoint',
        checkpointId: c.id,
        message: `checkpoint ${c.id} was signed by another key (${c.keyFingerprint}; this key is ${this.signer.fingerprint})`,
      };
    }
    if (!this.signer.verify(statement, c.signature)) {
      return {
        kind: 'checkpoint',
        checkpointId: c.id,
        message: `checkpoint ${c.id} has a bad signature: it was edited or swapped`,
      };
    }
    return undefined;
  }

  /** The hash the first row must link to: genesis, a prune's signed anchor, or (--from) its own. */
  private start(
    row: ChainRow,
    checkpoints: AuditCheckpoint[],
    trusted: boolean,
  ): { hash?: Buffer; problem?: ChainProblem } {
    if (!row.prevHash) return { hash: GENESIS }; // then named by checkRow
    if (trusted || row.prevHash.equals(GENESIS)) return { hash: row.prevHash };
    const anchor = checkpoints.find(
      (c) => c.kind === 'anchor' && c.headId === row.id && c.headHash.equals(row.prevHash!),
    );
    if (anchor) return { hash: row.prevHash };
    return {
      problem: {
        kind: 'deleted',
        rowId: row.id,
        message: `rows before ${row.id} were deleted: the chain does not start at row ${row.id} and no signed prune anchor says it may`,
      },
    };
  }

  private checkRow(
    row: ChainRow,
    next: ChainRow | undefined,
    prev: Pick<ChainRow, 'id'> | undefined,
    expected: Buffer,
    prevPrevHash: Buffer | undefined,
  ): ChainProblem | undefined {
    const id = row.id;
    if (!row.hash || !row.prevHash) {
      return { kind: 'inserted', rowId: id, message: `row ${id} was inserted: it has no hash` };
    }
    const selfOk = rowHash(row.prevHash, row).equals(row.hash);
    const linkOk = row.prevHash.equals(expected);
    if (selfOk && linkOk) {
      if (row.ip !== null && !(row.ipHash && this.ipKey(row.ip).equals(row.ipHash))) {
        return {
          kind: 'edited',
          rowId: id,
          message: `row ${id} was edited: its IP does not match its keyed hash`,
        };
      }
      return undefined;
    }
    // Content that hashes right at a neighbour's place: rows swapped.
    const belongsAtNext =
      next?.hash &&
      next.prevHash &&
      (rowHash(row.prevHash, { ...row, id: next.id }).equals(row.hash) ||
        rowHash(next.prevHash, { ...row, id: next.id }).equals(next.hash));
    if (!linkOk) {
      if (prev && prevPrevHash && row.prevHash.equals(prevPrevHash)) {
        return {
          kind: 'inserted',
          rowId: prev.id,
          message: `row ${prev.id} was inserted: row ${id} links to the row before it`,
        };
      }
      if (belongsAtNext) return this.reordered(row, next!);
      if (prev && BigInt(id) > BigInt(prev.id) + 1n) {
        return {
          kind: 'deleted',
          rowId: (BigInt(prev.id) + 1n).toString(),
          message: `rows ${BigInt(prev.id) + 1n}–${BigInt(id) - 1n} were deleted: row ${id} does not link to row ${prev.id}`,
        };
      }
      return {
        kind: 'edited',
        rowId: id,
        message: `row ${id} was edited: its prev_hash does not link to row ${prev?.id ?? 'before it'}`,
      };
    }
    if (belongsAtNext) return this.reordered(row, next!);
    if (next?.prevHash && next.prevHash.equals(expected)) {
      return {
        kind: 'inserted',
        rowId: id,
        message: `row ${id} was inserted: row ${next.id} links to the row before it`,
      };
    }
    return {
      kind: 'edited',
      rowId: id,
      message: `row ${id} was edited: its hash does not match its fields`,
    };
  }

  private reordered(row: ChainRow, next: ChainRow): ChainProblem {
    return {
      kind: 'reordered',
      rowId: row.id,
      message: `rows ${row.id} and ${next.id} were reordered: row ${row.id} holds the event signed as row ${next.id}`,
    };
  }

  /** Keeps the outcome for the admin page (the page never walks the chain itself). */
  async record(result: VerifyResult, fromId?: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO audit_verify_runs (finished_at, ok, from_id, last_id, rows, problem)
       VALUES (now(), $1, $2, $3, $4, $5)`,
      [result.ok, fromId ?? null, result.lastId, result.rows, result.problem?.message ?? null],
    );
  }
}
