import type { Clock, TimerHandle } from '../util/clock.js';

/**
 * One re-armable timer of one kind (A, B, ...) for one transaction. The callback is bound once at
 * construction, so arming it again on each retransmission allocates nothing of ours
 * (DESIGN.md: "transaction timers must not allocate per retransmission").
 */
export class TransactionTimer {
  readonly #clock: Clock;
  readonly #fire: () => void;
  #handle: TimerHandle | undefined;
  /** Interval of the last `start`, so retransmit timers can double it without extra state. */
  #interval = 0;

  readonly #onFire = (): void => {
    this.#handle = undefined;
    this.#fire();
  };

  constructor(clock: Clock, fire: () => void) {
    this.#clock = clock;
    this.#fire = fire;
  }

  get running(): boolean {
    return this.#handle !== undefined;
  }

  get interval(): number {
    return this.#interval;
  }

  start(ms: number): void {
    if (this.#handle !== undefined) this.#clock.clearTimeout(this.#handle);
    this.#interval = ms;
    this.#handle = this.#clock.setTimeout(this.#onFire, ms);
  }

  stop(): void {
    if (this.#handle === undefined) return;
    this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
  }
}
