import {
  canonical,
  canonicalJson,
  canonicalFromHead,
  canonicalText,
  rowHash,
  rowHashHex,
  type ChainFields,
} from './canonical.js';

/** The encoding as first written: a deep copy with keys sorted. Existing chains hash this. */
function sortedCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedCopy);
  if (value !== null && typeof value === 'object') {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      sorted[key] = sortedCopy((value as Record<string, unknown>)[key]);
    }
    return sorted;
  }
  return value;
}

const row: ChainFields = {
  id: '42',
  occurredAt: '2026-11-26T12:00:00.123456Z',
  tag: 'admin:user:disable',
  actorId: 'A1B2C3D4-0000-4000-8000-000000000001',
  actorName: 'ädmin "quoted" \\ \n\u0001\u2028 😀',
  actorKind: 'user',
  actorTokenId: null,
  actorTokenName: null,
  actorTwoFactor: 'totp',
  userId: null,
  projectId: null,
  projectName: 'numpy',
  ipHash: Buffer.alloc(32, 7),
  userAgent: 'pip/24.0',
  requestId: 'req-1',
  additional: { b: 1, a: [1, 'x'] },
  plugin: 'core',
};

describe('the canonical encoding', () => {
  it('serialises additional data exactly as a key-sorted deep copy, sorted or not as it comes', () => {
    const values: unknown[] = [
      { a: 1, b: { c: 2, d: [3, { e: 4, f: null }] } }, // already sorted: not copied
      { b: 1, a: 2 },
      { a: { d: 1, c: 2 } },
      [{ b: 1, a: 2 }, 'x', 1.5, true, null],
      { 2: 'two', 10: 'ten', b: 'b' }, // integer-like keys: not in .sort() order as they come
      { 1: 'one', 10: 'ten', a: 'a' }, // integer-like keys in .sort() order
      JSON.parse('{"__proto__": {"x": 1}, "a": 1}'),
      JSON.parse('{"a": 1, "toJSON": 2}'),
      { at: new Date(0), none: undefined },
      Object.assign(Object.create(null) as object, { b: 1, a: 2 }),
      Object.assign(Object.create(null) as object, { a: 1, b: 2 }),
      [1, , 3], // eslint-disable-line no-sparse-arrays
      {},
      [],
      'text',
      7,
    ];
    for (const value of values) {
      expect(JSON.stringify(canonicalJson(value))).toBe(JSON.stringify(sortedCopy(value)));
    }
    const sorted = { a: 1, b: { c: 2 } };
    expect(canonicalJson(sorted)).toBe(sorted);
  });

  it('hashes hex and text as read (the verify walk) to the same hash as the Buffers', () => {
    const prev = Buffer.alloc(32, 9);
    const text = (r: ChainFields) => canonicalText(r, r.ipHash?.toString('hex') ?? null);
    expect(rowHashHex(prev.toString('hex'), text(row))).toBe(rowHash(prev, row).toString('hex'));
    // Longer than the reused buffer: hashed the plain way.
    const long = { ...row, userAgent: '😀é'.repeat(20_000) };
    expect(canonical(long).length).toBeGreaterThan(64 * 1024);
    expect(rowHashHex(prev.toString('hex'), text(long))).toBe(rowHash(prev, long).toString('hex'));
  });

  it('builds the canonical text from a JSON array of the fields up to `request_id`', () => {
    for (const additional of [row.additional, null, { z: ['é', { y: 1, x: 2 }] }]) {
      const r = { ...row, additional };
      const full = canonicalText(r, null);
      const head = JSON.stringify((JSON.parse(full) as unknown[]).slice(0, 16));
      expect(canonicalFromHead(head, additional, row.plugin)).toBe(full);
    }
  });
});
