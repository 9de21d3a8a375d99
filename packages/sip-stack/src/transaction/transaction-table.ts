/** What the table holds for one transaction; emptied when the transaction leaves. */
interface Slot<T> {
  tx: T | undefined;
}

/**
 * The transactions of a layer by key (RFC 3261 §17.1.3, §17.2.3), each behind a slot that is
 * emptied when it leaves. The layer's map lives as long as the layer, so its hash tables end up
 * in V8's old generation; when a Map grows or sheds deleted entries it moves to a new table and
 * the abandoned one keeps its entries until the next full GC. Every young value in it then
 * survives each scavenge (an old-to-young pointer) and is promoted with everything it reaches:
 * the request, the response, the message bytes of every transaction that happened to be in the
 * table at that moment. An emptied slot is all such a table can keep alive.
 */
export class TransactionTable<T extends { readonly key: string }> {
  readonly #slots = new Map<string, Slot<T>>();

  get size(): number {
    return this.#slots.size;
  }

  get(key: string): T | undefined {
    return this.#slots.get(key)?.tx;
  }

  has(key: string): boolean {
    return this.#slots.has(key);
  }

  set(key: string, tx: T): void {
    const slot = this.#slots.get(key);
    if (slot !== undefined) slot.tx = tx;
    else this.#slots.set(key, { tx });
  }

  /** Removes `tx` if it is the transaction filed under its key. */
  delete(tx: T): void {
    const slot = this.#slots.get(tx.key);
    if (slot === undefined || slot.tx !== tx) return;
    slot.tx = undefined;
    this.#slots.delete(tx.key);
  }

  /** The transactions now in the table (a copy: disposing them changes the table). */
  list(): T[] {
    const all: T[] = [];
    for (const slot of this.#slots.values()) if (slot.tx !== undefined) all.push(slot.tx);
    return all;
  }

  clear(): void {
    for (const slot of this.#slots.values()) slot.tx = undefined;
    this.#slots.clear();
  }
}
