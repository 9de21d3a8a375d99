import type { Clock, TimerHandle } from '../util/clock.js';

/** Something that waits for one deadline. */
export interface Expirable {
  expire(): void;
}

/** Entries fired before the arrays are compacted (the fired prefix is dropped). */
const COMPACT_AFTER = 1024;

/**
 * Many waits of one and the same delay (Timer J = 64*T1 of every non-INVITE server transaction,
 * RFC 3261 §17.2.2) on a single clock timer. With one delay, deadlines come in the order items are
 * added, so a FIFO is exact: no timer object, no closure and no clearTimeout per item. An item
 * that ended early stays queued until its deadline, and `expire()` must then do nothing.
 */
export class DeadlineQueue<T extends Expirable> {
  readonly #clock: Clock;
  readonly #delayMs: number;
  #items: (T | undefined)[] = [];
  #deadlines: number[] = [];
  #head = 0;
  #timer: TimerHandle | undefined;

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    try {
      this.#fireDue();
    } finally {
      this.#arm();
    }
  };

  constructor(clock: Clock, delayMs: number) {
    this.#clock = clock;
    this.#delayMs = delayMs;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  /** `item.expire()` is called once, `delayMs` from now. */
  add(item: T): void {
    this.#items.push(item);
    this.#deadlines.push(this.#clock.now() + this.#delayMs);
    if (this.#timer === undefined) this.#arm();
  }

  /** Forgets every item and stops the timer (shutdown). */
  clear(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#items = [];
    this.#deadlines = [];
    this.#head = 0;
  }

  #fireDue(): void {
    const now = this.#clock.now();
    while (this.#head < this.#items.length && (this.#deadlines[this.#head] ?? 0) <= now) {
      const item = this.#items[this.#head];
      this.#items[this.#head] = undefined;
      this.#head++;
      item?.expire();
    }
    if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#deadlines = this.#deadlines.slice(this.#head);
      this.#head = 0;
    }
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#head >= this.#items.length) return;
    const wait = (this.#deadlines[this.#head] ?? 0) - this.#clock.now();
    // a system timer may fire a fraction of a millisecond before the deadline: wait again then
    this.#timer = this.#clock.setTimeout(this.#onTimer, Math.max(Math.ceil(wait), 0));
  }
}
