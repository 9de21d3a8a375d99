/**
 * RFC 3261 §13.3.1.4: the UAS core passes its 2xx to the transport again at T1, doubling up to T2,
 * until the ACK arrives; without an ACK after 64*T1 it gives up (the session is then ended).
 */
import type { TimerConfig } from '../transaction/timer-config.js';
import type { Clock, TimerHandle } from '../util/clock.js';

export type SuccessOutcome = 'acked' | 'timeout' | 'stopped';

export class SuccessRetransmitter {
  readonly #clock: Clock;
  readonly #timers: TimerConfig;
  readonly #resend: () => void;
  readonly #onTimeout: () => void;
  #interval: number;
  #retransmit: TimerHandle | undefined;
  #giveUp: TimerHandle | undefined;
  #outcome: SuccessOutcome | undefined;
  #resolve!: (o: SuccessOutcome) => void;
  /** Settles once: ACK received, 64*T1 passed, or stopped. */
  readonly settled: Promise<SuccessOutcome>;

  constructor(clock: Clock, timers: TimerConfig, resend: () => void, onTimeout: () => void) {
    this.#clock = clock;
    this.#timers = timers;
    this.#resend = resend;
    this.#onTimeout = onTimeout;
    this.#interval = timers.T1;
    this.settled = new Promise((resolve) => (this.#resolve = resolve));
  }

  get outcome(): SuccessOutcome | undefined {
    return this.#outcome;
  }

  start(): void {
    this.#retransmit = this.#clock.setTimeout(() => this.#onRetransmit(), this.#interval);
    this.#giveUp = this.#clock.setTimeout(() => this.#settle('timeout'), 64 * this.#timers.T1);
  }

  /** The ACK for the 2xx arrived. */
  ack(): void {
    this.#settle('acked');
  }

  stop(): void {
    this.#settle('stopped');
  }

  #onRetransmit(): void {
    if (this.#outcome !== undefined) return;
    this.#resend();
    // RFC 3261 §13.3.1.4: the interval doubles until it reaches T2.
    this.#interval = Math.min(this.#interval * 2, this.#timers.T2);
    this.#retransmit = this.#clock.setTimeout(() => this.#onRetransmit(), this.#interval);
  }

  #settle(outcome: SuccessOutcome): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = outcome;
    this.#clock.clearTimeout(this.#retransmit);
    this.#clock.clearTimeout(this.#giveUp);
    this.#resolve(outcome);
    if (outcome === 'timeout') this.#onTimeout();
  }
}
