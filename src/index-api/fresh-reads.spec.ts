import { FreshReads } from './fresh-reads.js';

/** A read whose answer is the value of `state.value` when the read *starts*, settled by hand. */
function controlledSource() {
  const state = { value: 0, started: 0 };
  const pending: Array<() => void> = [];
  const read = (key: string) => {
    state.started++;
    const seen = `${key}=${state.value}`;
    return new Promise<string>((resolve) => pending.push(() => resolve(seen)));
  };
  const settleAll = async () => {
    while (pending.length > 0) {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { state, read, settleAll };
}

describe('FreshReads', () => {
  it('gives a caller who asks during a read the result of a later read, never the running one', async () => {
    const { state, read, settleAll } = controlledSource();
    const reads = new FreshReads(read);
    const first = reads.get('p');
    state.value = 1; // committed after the first read started, before the second caller asked
    const second = reads.get('p');
    await settleAll();
    expect(await first).toBe('p=0');
    expect(await second).toBe('p=1');
  });

  it('shares one read among every caller who asked while another was running', async () => {
    const { state, read, settleAll } = controlledSource();
    const reads = new FreshReads(read);
    const all = [reads.get('p'), ...Array.from({ length: 30 }, () => reads.get('p'))];
    await settleAll();
    await Promise.all(all);
    expect(state.started).toBe(2);
  });

  it('keeps keys apart, and starts afresh once nothing is pending', async () => {
    const { state, read, settleAll } = controlledSource();
    const reads = new FreshReads(read);
    const a = reads.get('a');
    const b = reads.get('b');
    await settleAll();
    expect([await a, await b]).toEqual(['a=0', 'b=0']);
    state.value = 2;
    const again = reads.get('a');
    await settleAll();
    expect(await again).toBe('a=2');
    expect(state.started).toBe(3);
  });

  it('passes a failed read to its callers and reads again for the next ones', async () => {
    let calls = 0;
    const reads = new FreshReads(async () => {
      calls++;
      if (calls === 1) throw new Error('down');
      return 'up';
    });
    const failing = reads.get('p');
    const later = reads.get('p');
    await expect(failing).rejects.toThrow('down');
    await expect(later).resolves.toBe('up');
  });
});
