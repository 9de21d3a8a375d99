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

  #swap(i: number, j: number): void {
    const a = this.#items[i] as T;
    const b = this.#items[j] as T;
    this.#items[i] = b;
    this.#items[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((this.#items[parent] as T).at <= (this.#items[i] as T).at) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && (this.#items[l] as T).at < (this.#items[m] as T).at) m = l;
      if (r < n && (this.#items[r] as T).at < (this.#items[m] as T).at) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}
