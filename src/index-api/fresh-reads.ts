/**
 * Coalesces reads of a value that must be fresh: every caller gets the result of a read that
 * *started after it asked*, so it sees everything committed before it asked — the same
 * guarantee as one read per caller — but callers that ask while a read is in flight share the
 * next one. Under N concurrent requests for one key that is at most two reads in flight
 * instead of N.
 */
interface Slot<V> {
  running: Promise<V>;
  /** The read that starts once `running` settles, shared by everyone who asked meanwhile. */
  next?: Promise<V>;
}

export class FreshReads<K, V> {
  private readonly slots = new Map<K, Slot<V>>();

  constructor(private readonly read: (key: K) => Promise<V>) {}

  get(key: K): Promise<V> {
    const slot = this.slots.get(key);
    if (!slot) return this.start(key);
    // The running read may have started before this caller asked: wait for the next one.
    slot.next ??= slot.running.then(
      () => this.start(key),
      () => this.start(key),
    );
    return slot.next;
  }

  private start(key: K): Promise<V> {
    const running = this.read(key);
    const slot: Slot<V> = { running };
    this.slots.set(key, slot);
    const settle = () => {
      if (this.slots.get(key) === slot) {
        if (slot.next === undefined) this.slots.delete(key);
      }
    };
    running.then(settle, settle);
    return running;
  }
}
