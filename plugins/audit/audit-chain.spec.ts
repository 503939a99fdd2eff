import { createUser, csrfFrom, login } from '../../test/helpers/factories.js';
import { createPluginTestApp, testContext, type TestApp } from '../../test/helpers/test-app.js';
import { databaseMode } from '../../test/helpers/test-database.js';
import { AuditCheckpoints } from './audit.checkpoints.js';
import { AuditRetention } from './audit.retention.js';
import { AuditSigner } from './audit.signer.js';
import { AuditVerifier, CHAIN_SELECT, type ChainRow } from './audit.verifier.js';
import { AUDIT_WRITE_LOCK } from './audit.queries.js';
import { AuditWriter } from './audit.writer.js';
import {
  CANONICAL_HEAD_SQL,
  canonicalFromHead,
  canonicalText,
  ipKey,
  rowHash,
  type ChainFields,
} from './chain/canonical.js';

const DAY = 24 * 60 * 60_000;

describe('the audit hash chain', () => {
  let t: TestApp;
  let writer: AuditWriter;
  let verifier: AuditVerifier;
  let checkpoints: AuditCheckpoints;
  /** An id the sequence gave out but no row has (a rolled-back insert leaves such gaps). */
  let gapId: string;

  beforeAll(async () => {
    t = await createPluginTestApp('audit', {
      options: { checkpointEvery: '5', checkpointMinutes: '60' },
      env: {
        LARDER_REGISTRATION: 'open',
        LARDER_TRUSTED_PROXIES: '127.0.0.1/32,::1/128,::ffff:127.0.0.1/128',
        LARDER_AUDIT_RETENTION_DAYS: '30',
        LARDER_AUDIT_IP_RETENTION_DAYS: '7',
      },
    });
    writer = t.app.get(AuditWriter);
    verifier = t.app.get(AuditVerifier);
    checkpoints = t.app.get(AuditCheckpoints);
    // The tests drive the checkpoint and retention jobs themselves: stop their timers.
    await checkpoints.onModuleDestroy();
    await t.app.get(AuditRetention).onModuleDestroy();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const q = (sql: string, params: unknown[] = []) => t.dataSource.query(sql, params);

  /** Writes `n` events in one batch as if from `ip`, `daysAgo` days ago. */
  async function write(n: number, { ip = '198.51.100.7', daysAgo = 0 } = {}): Promise<void> {
    const context = { ...testContext({ kind: 'system', name: 'test:chain' }), ip };
    const occurredAt = new Date(Date.now() - daysAgo * DAY);
    const rows = Array.from({ length: n }, (_, i) =>
      writer.build(
        {
          tag: 'admin:user:disable',
          plugin: 'core',
          additional: { reason: `r${i}`, nested: { b: 1, a: [1, 'x'] } },
          occurredAt,
        },
        context,
      ),
    );
    await writer.store(rows);
  }
  const ids = async (): Promise<string[]> =>
    (await q('SELECT id::text AS id FROM audit_events ORDER BY audit_events.id')).map(
      (r: { id: string }) => r.id,
    );
  const chainRows = (fromId: string): Promise<ChainRow[]> =>
    q(`${CHAIN_SELECT} WHERE id >= $1 ORDER BY audit_events.id`, [fromId]);
  /** Puts a row back exactly as read with `SELECT *`, id and hashes included. */
  async function restore(row: Record<string, unknown>): Promise<void> {
    const columns = Object.keys(row);
    await q(
      `INSERT INTO audit_events (${columns.join(', ')}) OVERRIDING SYSTEM VALUE VALUES (${columns
        .map((c, i) => `$${i + 1}${c === 'additional' ? '::jsonb' : ''}`)
        .join(', ')})`,
      columns.map((c) => (c === 'additional' ? JSON.stringify(row[c]) : row[c])),
    );
  }
  // Small batches: every walk crosses several read-ahead ranges, as a large log does.
  const verify = (options: Parameters<AuditVerifier['verify']>[0] = {}) =>
    verifier.verify({ batchSize: 4, ...options });
  const ok = async () => expect((await verify()).problem).toBeUndefined();

  it('prunes old events and hashes old IPs, leaving a chain that verifies and an IP filter that matches', async () => {
    await write(3, { ip: '203.0.113.50', daysAgo: 45 }); // past both retentions
    await write(2, { ip: '203.0.113.51', daysAgo: 10 }); // past the IP retention only
    await write(1);
    await ok();
    const result = await t.app.get(AuditRetention).run({ wait: true });
    expect(result).toMatchObject({ ran: true, pruned: 3, ipsHashed: 2 });
    const [prune] = await q(
      `SELECT id::text, actor_name, additional FROM audit_events WHERE tag = 'admin:audit:prune'`,
    );
    expect(prune.additional).toEqual({ before: result.before!.toISOString(), rows: 3 });
    // The first remaining row links to a pruned one: a signed anchor vouches for it.
    const [anchor] = await q(`SELECT head_id::text FROM audit_checkpoints WHERE kind = 'anchor'`);
    expect(anchor.head_id).toBe((await ids())[0]);
    await ok();
    const hashedIp = ipKey(t.config.secret, '203.0.113.51');
    expect(
      await q('SELECT host(ip) AS ip FROM audit_events WHERE ip_hash = $1', [hashedIp]),
    ).toEqual([{ ip: null }, { ip: null }]);
    // A prune with nothing older records nothing.
    expect(await t.app.get(AuditRetention).run({ wait: true })).toMatchObject({
      pruned: 0,
      ipsHashed: 0,
    });

    const admin = await createUser(t, { admin: true });
    const { agent } = await login(t, admin);
    const exact = await agent.get('/admin/audit/?ip=203.0.113.51').expect(200);
    expect(exact.text.match(/class="audit-ip"/g)).toHaveLength(2);
    // CIDR filters compare the IP itself, which is gone (docs/audit.md).
    const cidr = await agent.get('/admin/audit/?ip=203.0.113.0/24').expect(200);
    expect(cidr.text).not.toContain('class="audit-ip"');
    // The page shows the key and the chain's status without walking it.
    expect(exact.text).toContain(t.app.get(AuditSigner).fingerprint);
    expect(exact.text).toMatch(/class="audit-checkpoint">anchor \d+ at event #\d+/);
  }, 120_000);

  it('chains every row to the one before, covering the keyed IP hash', async () => {
    await write(3);
    [{ gapId }] = await q(
      `SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))::text AS "gapId"`,
    );
    await write(4, { ip: '2001:DB8:0:0::1' });
    const result = await verify();
    expect(result.problem).toBeUndefined();
    expect(result.ok).toBe(true);
    const rows = await q(
      `SELECT prev_hash, hash, ip_hash FROM audit_events WHERE id > $1 ORDER BY id LIMIT 2`,
      [gapId],
    );
    expect(rows[1].prev_hash.equals(rows[0].hash)).toBe(true);
    // Stored by PostgreSQL as 2001:db8::1: the keyed hash is of the normal form.
    expect(rows[0].ip_hash.equals(ipKey(t.config.secret, '2001:db8::1'))).toBe(true);
  }, 60_000);

  it('hashes in the database exactly as the encoding does in Node, whatever the text', async () => {
    // Every control character but NUL (jsonb refuses it), quotes, backslashes, non-ASCII and
    // astral text, U+2028/9, keys out of order at every depth, values JSON turns into text.
    const nasty = `${Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('')}\x7f "q" \\ / é 中 😀 \u2028\u2029 </script>`;
    const context = { ...testContext({ kind: 'system', name: nasty }), ip: '::ffff:10.0.0.1' };
    const rows = [nasty.toUpperCase(), nasty, 'plain'].map((text, i) =>
      writer.build(
        {
          tag: 'admin:user:disable',
          plugin: 'core',
          additional: {
            z: text,
            a: {
              y: [text, 1.5, null, { d: 1, c: undefined }],
              b: new Date(Date.UTC(2026, 0, i + 1)),
            },
          },
        },
        { ...context, userAgent: text },
      ),
    );
    const [{ last }] = await q(`SELECT coalesce(max(id), 0)::text AS last FROM audit_events`);
    await writer.store(rows); // three at once: audit_chain_append
    await writer.store([rows[1]]); // one: audit_chain_append_one
    const stored = await chainRows(String(BigInt(last) + 1n));
    expect(stored).toHaveLength(4);
    expect(stored.map((row) => row.userAgent)).toEqual([
      nasty.toUpperCase(),
      nasty,
      'plain',
      nasty,
    ]);
    for (const [i, row] of stored.entries()) {
      expect(rowHash(row.prevHash!, row).equals(row.hash!)).toBe(true);
      if (i > 0) expect(row.prevHash!.equals(stored[i - 1].hash!)).toBe(true);
    }
    await ok();
  }, 60_000);

  it('keeps one chain under concurrent requests and writers', async () => {
    const server = t.app.getHttpServer();
    const { default: request } = await import('supertest');
    const before = (await ids()).length;
    await Promise.all([
      ...Array.from({ length: 10 }, () => write(2)),
      ...Array.from({ length: 10 }, async (_, i) => {
        const agent = request.agent(server);
        const page = await agent.get('/account/login/').expect(200);
        await agent
          .post('/account/login/')
          .type('form')
          .send({ username: `nobody${i}`, password: 'x', csrf_token: csrfFrom(page.text) });
      }),
    ]);
    await writer.idle();
    expect((await ids()).length).toBe(before + 30);
    await ok();
  }, 120_000);

  it('signs a checkpoint when due, once, records it as an event, and verify checks it', async () => {
    const [first, second] = await Promise.all([checkpoints.writeIfDue(), checkpoints.writeIfDue()]);
    expect([first, second].filter(Boolean)).toHaveLength(1);
    const written = (first ?? second)!;
    expect(await checkpoints.writeIfDue()).toBeNull(); // one new event since: not due
    const [event] = await q(
      `SELECT id::text, additional FROM audit_events WHERE tag = 'audit:checkpoint:signed' ORDER BY audit_events.id DESC LIMIT 1`,
    );
    expect(event.additional).toMatchObject({
      checkpoint_id: written.id,
      kind: 'checkpoint',
      head_id: written.headId,
      head_sha256: written.headHash.toString('hex'),
      key_fingerprint: t.app.get(AuditSigner).fingerprint,
    });
    expect(BigInt(event.id)).toBe(BigInt(written.headId) + 1n);
    const result = await verify();
    expect(result.problem).toBeUndefined();
    expect(result.checkpoints).toBe(2); // the prune's anchor and this one
  }, 60_000);

  it('names an edited row, and an edited IP', async () => {
    const [victim] = await q(
      `SELECT id::text, additional, host(ip) AS ip FROM audit_events WHERE ip IS NOT NULL ORDER BY audit_events.id LIMIT 1`,
    );
    await q(`UPDATE audit_events SET additional = '{"reason":"nothing to see"}' WHERE id = $1`, [
      victim.id,
    ]);
    let result = await verify();
    expect(result.problem).toMatchObject({ kind: 'edited', rowId: victim.id });
    expect(result.problem!.message).toContain(`row ${victim.id} was edited`);
    await q('UPDATE audit_events SET additional = $1::jsonb WHERE id = $2', [
      JSON.stringify(victim.additional),
      victim.id,
    ]);
    await ok();
    await q(`UPDATE audit_events SET ip = '192.0.2.1' WHERE id = $1`, [victim.id]);
    result = await verify();
    expect(result.problem).toMatchObject({ kind: 'edited', rowId: victim.id });
    expect(result.problem!.message).toContain('IP');
    await q('UPDATE audit_events SET ip = $1 WHERE id = $2', [victim.ip, victim.id]);
    await ok();
  }, 60_000);

  it('names deleted rows', async () => {
    const all = await ids();
    const [victim, after] = [all[2], all[3]];
    const [saved] = await q('SELECT * FROM audit_events WHERE id = $1', [victim]);
    await q('DELETE FROM audit_events WHERE id = $1', [victim]);
    const result = await verify();
    expect(result.problem).toMatchObject({ kind: 'deleted', rowId: victim });
    expect(result.problem!.message).toContain(`row ${after} does not link to row ${all[1]}`);
    await restore(saved);
    await ok();
  }, 60_000);

  it('names an inserted row, chained to the one before or not chained at all', async () => {
    const before = (BigInt(gapId) - 1n).toString();
    const [previous] = await chainRows(before);
    const forged = { ...previous, id: gapId };
    const [copy] = await q('SELECT * FROM audit_events WHERE id = $1', [before]);
    await restore({
      ...copy,
      id: gapId,
      prev_hash: previous.hash,
      hash: rowHash(previous.hash!, forged),
    });
    let result = await verify();
    expect(result.problem).toMatchObject({ kind: 'inserted', rowId: gapId });
    await q('DELETE FROM audit_events WHERE id = $1', [gapId]);
    await restore({ ...copy, id: gapId, prev_hash: null, hash: null });
    result = await verify();
    expect(result.problem).toMatchObject({ kind: 'inserted', rowId: gapId });
    await q('DELETE FROM audit_events WHERE id = $1', [gapId]);
    await ok();
  }, 60_000);

  it('names reordered rows', async () => {
    const [, a, b] = await ids();
    // `id` is GENERATED ALWAYS: a forger deletes and re-inserts (OVERRIDING SYSTEM VALUE).
    const swap = async () => {
      const [rowA, rowB] = await q(
        'SELECT * FROM audit_events WHERE id IN ($1, $2) ORDER BY audit_events.id',
        [a, b],
      );
      await q('DELETE FROM audit_events WHERE id IN ($1, $2)', [a, b]);
      await restore({ ...rowA, id: b });
      await restore({ ...rowB, id: a });
    };
    await swap();
    const result = await verify();
    expect(result.problem).toMatchObject({ kind: 'reordered', rowId: a });
    expect(result.problem!.message).toContain(`rows ${a} and ${b} were reordered`);
    await swap();
    await ok();
  }, 60_000);

  it('names a chain rewritten by someone who recomputed every hash after the edit', async () => {
    const [checkpoint] = await q(
      `SELECT id::text, head_id::text FROM audit_checkpoints WHERE kind = 'checkpoint' ORDER BY audit_checkpoints.id DESC LIMIT 1`,
    );
    const all = await ids();
    const from = all[all.indexOf(checkpoint.head_id) - 3];
    const original = await q(
      'SELECT id, additional, prev_hash, hash FROM audit_events WHERE id >= $1',
      [from],
    );
    let prev: Buffer | undefined;
    for (const row of await chainRows(from)) {
      if (row.id === from) row.additional = { reason: 'rewritten' };
      const prevHash = prev ?? row.prevHash!;
      prev = rowHash(prevHash, row);
      await q(
        'UPDATE audit_events SET additional = $1::jsonb, prev_hash = $2, hash = $3 WHERE id = $4',
        [JSON.stringify(row.additional), prevHash, prev, row.id],
      );
    }
    const result = await verify();
    expect(result.problem).toMatchObject({
      kind: 'checkpoint',
      checkpointId: checkpoint.id,
      rowId: checkpoint.head_id,
    });
    for (const row of original) {
      await q(
        'UPDATE audit_events SET additional = $1::jsonb, prev_hash = $2, hash = $3 WHERE id = $4',
        [JSON.stringify(row.additional), row.prev_hash, row.hash, row.id],
      );
    }
    await ok();
  }, 60_000);

  it('names a truncated tail: the last checkpoint is beyond the last row', async () => {
    await write(6);
    const checkpoint = await checkpoints.writeIfDue();
    expect(checkpoint).not.toBeNull();
    const tail = await q('SELECT * FROM audit_events WHERE id >= $1 ORDER BY id', [
      checkpoint!.headId,
    ]);
    await q('DELETE FROM audit_events WHERE id >= $1', [checkpoint!.headId]);
    const result = await verify();
    expect(result.problem).toMatchObject({ kind: 'truncated', checkpointId: checkpoint!.id });
    for (const row of tail) await restore(row);
    await ok();
  }, 60_000);

  it('names a swapped or forged checkpoint', async () => {
    const [cp1, cp2] = await q(
      `SELECT id::text, head_id::text, head_hash, signature FROM audit_checkpoints WHERE kind = 'checkpoint' ORDER BY audit_checkpoints.id`,
    );
    // cp2's statement under cp1's id: the signature covers the id.
    await q('UPDATE audit_checkpoints SET id = -1 WHERE id = $1', [cp1.id]);
    await q('UPDATE audit_checkpoints SET id = $1 WHERE id = $2', [cp1.id, cp2.id]);
    await q('UPDATE audit_checkpoints SET id = $1 WHERE id = -1', [cp2.id]);
    let result = await verify();
    expect(result.problem).toMatchObject({ kind: 'checkpoint' });
    expect(result.problem!.message).toMatch(/checkpoint \d+ has a bad signature/);
    await q('UPDATE audit_checkpoints SET id = -1 WHERE id = $1', [cp1.id]);
    await q('UPDATE audit_checkpoints SET id = $1 WHERE id = $2', [cp1.id, cp2.id]);
    await q('UPDATE audit_checkpoints SET id = $1 WHERE id = -1', [cp2.id]);
    await ok();
    // A checkpoint moved to another row, keeping its signature.
    await q('UPDATE audit_checkpoints SET head_id = head_id - 1 WHERE id = $1', [cp2.id]);
    result = await verify();
    expect(result.problem).toMatchObject({ kind: 'checkpoint', checkpointId: cp2.id });
    await q('UPDATE audit_checkpoints SET head_id = $1 WHERE id = $2', [cp2.head_id, cp2.id]);
    await ok();
  }, 60_000);

  it('starts at --from, trusting the link before it', async () => {
    const all = await ids();
    const result = await verify({ fromId: all[5] });
    expect(result.problem).toBeUndefined();
    expect(result.firstId).toBe(all[5]);
    expect(result.rows).toBe(all.length - 5);
  }, 60_000);

  it('reports rows from before the chain existed (no hash, at the start) as not covered', async () => {
    const [first] = await ids();
    // The prune left ids below the first row free; a database upgraded from before the chain
    // has its old rows there, unhashed.
    const [copy] = await q('SELECT * FROM audit_events WHERE id = $1', [first]);
    await restore({ ...copy, id: '1', prev_hash: null, hash: null });
    await restore({ ...copy, id: '2', prev_hash: null, hash: null });
    const result = await verify();
    expect(result.problem).toBeUndefined();
    expect(result.unchained).toBe(2);
    expect(result.firstId).toBe(first);
    await q('DELETE FROM audit_events WHERE id IN (1, 2)');
  }, 60_000);

  it('skips a checkpoint, with a warning, when the newest row is not chained', async () => {
    const [copy] = await q('SELECT * FROM audit_events ORDER BY audit_events.id DESC LIMIT 1');
    const [{ id }] = await q(`SELECT nextval('audit_events_id_seq')::text AS id`);
    // Inserted around the writer, as a seed or a tamperer would.
    await restore({ ...copy, id, prev_hash: null, hash: null });
    const before = await q('SELECT count(*)::int AS n FROM audit_checkpoints');
    const later = new Date(Date.now() + 2 * 60 * 60_000); // past checkpointMinutes
    await expect(checkpoints.writeIfDue(later)).resolves.toBeNull();
    expect(await q('SELECT count(*)::int AS n FROM audit_checkpoints')).toEqual(before);
    await q('DELETE FROM audit_events WHERE id = $1', [id]);
  }, 60_000);

  it('commits without waiting for the disk under a contended lock, and waits after', async () => {
    const context = testContext({ kind: 'system', name: 'test:chain' });
    const audited = () =>
      t.dataSource.transaction(async (tx) => {
        await writer.insertNow(tx, [
          writer.build({ tag: 'admin:user:disable', plugin: 'core' }, context),
        ]);
        const [{ synchronous_commit: mode }] = await tx.query('SHOW synchronous_commit');
        const [{ lsn }] = await tx.query('SELECT pg_current_wal_insert_lsn()::text AS lsn');
        return { mode, lsn };
      });
    const flushedTo = async (lsn: string) =>
      (await q('SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn AS f', [lsn]))[0].f;
    // The lock was free: an ordinary synchronous commit.
    const alone = await audited();
    expect(alone.mode).toBe('on');
    expect(await flushedTo(alone.lsn)).toBe(true);
    /** Runs `work` while another session holds the write lock for 200 ms. */
    const whileLockHeld = async <T>(work: () => Promise<T>): Promise<T> => {
      const holder = t.dataSource.createQueryRunner();
      await holder.connect();
      await holder.startTransaction();
      await holder.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_WRITE_LOCK]);
      const waiting = work();
      await new Promise((resolve) => setTimeout(resolve, 200));
      await holder.commitTransaction();
      await holder.release();
      return waiting;
    };
    // The embedded database has one connection, so no other can hold the lock meanwhile.
    if (databaseMode === 'server') {
      const queued = await whileLockHeld(audited);
      // Only the audited transaction committed asynchronously…
      expect(queued.mode).toBe('off');
      // …and by the time it returned, everything it wrote was flushed (AuditWriter.afterCommit).
      expect(await flushedTo(queued.lsn)).toBe(true);
    }
    // The same when the events go out with COMMIT (queued in the transaction, as the
    // subscriber does): the writer learns from COMMIT's reply that it waited, then waits for
    // the disk.
    const queuedAtCommit = async () => {
      const sent: string[] = [];
      await t.dataSource.transaction(async (tx) => {
        const runner = tx.queryRunner!;
        const query = runner.query.bind(runner);
        runner.query = ((text: string, ...rest: unknown[]) => {
          sent.push(text);
          return query(text, ...(rest as []));
        }) as typeof runner.query;
        await writer.store(
          [writer.build({ tag: 'admin:user:disable', plugin: 'core' }, context)],
          tx,
        );
      });
      return sent.filter((text) => text.includes('pg_logical_emit_message')).length;
    };
    expect(await queuedAtCommit()).toBe(0);
    if (databaseMode === 'server') expect(await whileLockHeld(queuedAtCommit)).toBe(1);
    expect((await q('SHOW synchronous_commit'))[0].synchronous_commit).toBe('on');
    await ok();
  }, 60_000);

  it('rolls the change back when its events fail to insert at COMMIT', async () => {
    await q('CREATE TABLE IF NOT EXISTS chain_probe (v text)');
    const context = testContext({ kind: 'system', name: 'test:chain' });
    const before = await ids();
    const commit = (ip: string) =>
      t.dataSource.transaction(async (tx) => {
        await tx.query('INSERT INTO chain_probe VALUES ($1)', [ip]);
        // Queued, so inserted with COMMIT; an address PostgreSQL refuses fails that insert.
        await writer.store(
          [{ ...writer.build({ tag: 'admin:user:disable', plugin: 'core' }, context), ip }],
          tx,
        );
      });
    await expect(commit('not an address')).rejects.toThrow(/inet/);
    expect(await q('SELECT v FROM chain_probe')).toEqual([]);
    expect(await ids()).toEqual(before);
    await commit('192.0.2.1');
    expect(await q('SELECT v FROM chain_probe')).toEqual([{ v: '192.0.2.1' }]);
    expect((await ids()).length).toBe(before.length + 1);
    await q('DROP TABLE chain_probe');
    await ok();
  }, 60_000);

  it('never lets occurred_at go back along the chain, so date ranges are id ranges', async () => {
    await write(2);
    await write(1, { daysAgo: 3 }); // a late commit, or a node whose clock is behind
    const rows: Array<{ at: string }> = await q(
      `SELECT occurred_at::text AS at FROM audit_events ORDER BY audit_events.id DESC LIMIT 3`,
    );
    expect(rows[0].at).toBe(rows[1].at);
    expect(rows[1].at).toBe(rows[2].at);
    await ok();
    const admin = await createUser(t, { admin: true });
    const { agent } = await login(t, admin);
    // The three share one time: a range starting at it holds all of them, one ending at it none.
    const [{ at }] = await q(
      `SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
         FROM audit_events WHERE tag = 'admin:user:disable' ORDER BY audit_events.id DESC LIMIT 1`,
    );
    const since = await agent
      .get(`/admin/audit/?tag=admin:user:disable&since=${encodeURIComponent(at)}`)
      .expect(200);
    expect(since.text.match(/class="audit-summary"/g)).toHaveLength(3);
    const until = await agent
      .get(`/admin/audit/?tag=admin:user:disable&until=${encodeURIComponent(at)}`)
      .expect(200);
    const before = await q(
      `SELECT count(*)::int AS n FROM audit_events
        WHERE tag = 'admin:user:disable' AND occurred_at < $1`,
      [at],
    );
    expect((until.text.match(/class="audit-summary"/g) ?? []).length).toBe(
      Math.min(25, before[0].n),
    );
  }, 60_000);

  it('renders the canonical text up to `additional` in SQL exactly as the encoding does', async () => {
    // Every control character, quotes, backslashes, non-ASCII and astral text, U+2028/9.
    const nasty = `${Array.from({ length: 32 }, (_, i) => String.fromCharCode(i + 1 === 32 ? 127 : i + 1)).join('')} "q" \\ / é Ø 中 😀 \u2028\u2029 </script>`;
    const fields: ChainFields = {
      id: '9007199254740993',
      occurredAt: '2026-11-26T12:00:00.123456Z',
      tag: 'admin:user:disable',
      actorId: 'A1B2C3D4-0000-4000-8000-00000000000F',
      actorName: nasty,
      actorKind: 'user',
      actorTokenId: null,
      actorTokenName: nasty.toUpperCase(),
      actorTwoFactor: null,
      userId: '11111111-2222-4333-8444-555555555555',
      projectId: null,
      projectName: 'numpy',
      ipHash: ipKey(t.config.secret, '2001:db8::1'),
      userAgent: nasty,
      requestId: null,
      additional: { b: [nasty, 1.5, null], a: true },
      plugin: 'core',
    };
    const [{ head }] = await q(
      `SELECT ${CANONICAL_HEAD_SQL} AS head FROM (SELECT $1::bigint AS id,
         $2::timestamptz AS occurred_at, $3::varchar AS tag, $4::uuid AS actor_id,
         $5::varchar AS actor_name, $6::varchar AS actor_kind, $7::uuid AS actor_token_id,
         $8::varchar AS actor_token_name, $9::varchar AS actor_two_factor, $10::uuid AS user_id,
         $11::uuid AS project_id, $12::varchar AS project_name, $13::bytea AS ip_hash,
         $14::varchar AS user_agent, $15::varchar AS request_id) AS audit_events`,
      [
        fields.id,
        fields.occurredAt,
        fields.tag,
        fields.actorId,
        fields.actorName,
        fields.actorKind,
        fields.actorTokenId,
        fields.actorTokenName,
        fields.actorTwoFactor,
        fields.userId,
        fields.projectId,
        fields.projectName,
        fields.ipHash,
        fields.userAgent,
        fields.requestId,
      ],
    );
    expect(canonicalFromHead(head, fields.additional, fields.plugin)).toBe(
      canonicalText(fields, fields.ipHash!.toString('hex')),
    );
  });
});
