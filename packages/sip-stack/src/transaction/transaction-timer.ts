import { systemClock, type Clock, type TimerHandle } from '../util/clock.js';

export interface TransactionTimerOptions {
  /**
   * A retransmission timer (A, E, G): on the system clock, the callback runs after the event loop
   * has read the sockets once more. Node runs expired timers before it polls for I/O, so after a
   * pause (GC, a busy callback) the response that stops the retransmission may already be waiting
   * in the socket; it is read first, and the callback (which checks its state) finds nothing to do.
   * A manual clock fires at once, as before.
   */
  afterIo?: boolean;
}

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

  readonly #afterIo: boolean;
  /** The callback waits for the check phase (afterIo): stop() cancels it. */
  #immediate: NodeJS.Immediate | undefined;

  readonly #fireNow = (): void => {
    this.#immediate = undefined;
    this.#fire();
  };

  readonly #onFire = (): void => {
    this.#handle = undefined;
    if (this.#afterIo) this.#immediate = setImmediate(this.#fireNow);
    else this.#fire();
  };

  constructor(clock: Clock, fire: () => void, options?: TransactionTimerOptions) {
    this.#clock = clock;
    this.#fire = fire;
    this.#afterIo = options?.afterIo === true && clock === systemClock;
  }

  get running(): boolean {
    return this.#handle !== undefined || this.#immediate !== undefined;
  }

  get interval(): number {
    return this.#interval;
  }

  start(ms: number): void {
    if (this.#handle !== undefined) this.#clock.clearTimeout(this.#handle);
    this.#cancelImmediate();
    this.#interval = ms;
    this.#handle = this.#clock.setTimeout(this.#onFire, ms);
  }

  stop(): void {
    this.#cancelImmediate();
    if (this.#handle === undefined) return;
    this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  #cancelImmediate(): void {
    if (this.#immediate === undefined) return;
    clearImmediate(this.#immediate);
    this.#immediate = undefined;
  }
}
