/**
 * An indexed binary min-heap ordered by deadline: O(log n) insert, update and removal, with each
 * item's position kept in the item itself. The in-memory location service sweeps it with a
 * single timer instead of one timer per binding.
 */
export interface HeapItem {
  /** Deadline (clock ms). */
  readonly at: number;
  /** Position in the heap; -1 when not in it. */
  heapIndex: number;
}

export class ExpiryHeap<T extends HeapItem> {
  #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    item.heapIndex = this.#items.length;
    this.#items.push(item);
    this.#up(item.heapIndex);
  }

  /** Re-positions an item whose deadline changed. */
  update(item: T): void {
    if (item.heapIndex < 0) return;
    this.#up(item.heapIndex);
    this.#down(item.heapIndex);
  }

  /** Puts `next` where `previous` is (previous leaves the heap), then re-positions it. */
  replace(previous: T, next: T): void {
    const i = previous.heapIndex;
    if (i < 0) return this.push(next);
    previous.heapIndex = -1;
    this.#items[i] = next;
    next.heapIndex = i;
    this.#up(i);
    this.#down(next.heapIndex);
  }

  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0) return;
    const last = this.#items.pop() as T;
    item.heapIndex = -1;
    if (last === item) return;
    this.#items[i] = last;
    last.heapIndex = i;
    this.#up(i);
    this.#down(last.heapIndex);
  }

  /** Removes and returns the earliest item if its deadline is at or before `now`. */
  popDue(now: number): T | undefined {
    const top = this.#items[0];
    if (top === undefined || top.at > now) return undefined;
    this.remove(top);
    return top;
  }

  /** Moves the item at `i` up to its place, shifting parents down into the hole. */
  #up(i: number): void {
    const items = this.#items;
    const item = items[i] as T;
    const at = item.at;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as T;
      if (p.at <= at) break;
      items[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  /** Moves the item at `i` down to its place, shifting the earlier child up into the hole. */
  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const item = items[i] as T;
    const at = item.at;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let m = l;
      let mAt = (items[l] as T).at;
      const r = l + 1;
      if (r < n) {
        const rAt = (items[r] as T).at;
        if (rAt < mAt) {
          m = r;
          mAt = rAt;
        }
      }
      if (mAt >= at) break;
      const child = items[m] as T;
      items[i] = child;
      child.heapIndex = i;
      i = m;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
