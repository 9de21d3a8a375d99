/**
 * One actor per account (DESIGN.md "Where state lives"): messages run one at a time, in arrival
 * order, each to completion (including its awaits) before the next starts. That makes every
 * check-and-increment of the account's counters atomic without locks.
 */
export class AccountActor<S> {
  readonly state: S;
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  constructor(state: S) {
    this.state = state;
  }

  /** Messages queued or running. */
  get pending(): number {
    return this.#pending;
  }

  send<T>(message: (state: S) => T | Promise<T>): Promise<T> {
    this.#pending++;
    const run = this.#tail.then(() => message(this.state));
    const done = run.finally(() => {
      this.#pending--;
    });
    this.#tail = done.catch(() => undefined);
    return done;
  }
}
