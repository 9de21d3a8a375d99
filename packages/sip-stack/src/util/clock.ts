/**
 * One injected clock for every timer in the stack (DESIGN.md: "Timers: one clock, injected").
 * Production code uses `systemClock`; tests use `ManualClock` and advance time instantly.
 */
export interface TimerHandle {
  /** Opaque identity; pass back to `Clock.clearTimeout`. */
  readonly id: number;
}

export interface Clock {
  /** Milliseconds since an arbitrary epoch; monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

interface NodeTimerHandle extends TimerHandle {
  readonly timer: NodeJS.Timeout;
}

let nextSystemId = 1;

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref?.();
    const handle: NodeTimerHandle = { id: nextSystemId++, timer };
    return handle;
  },
  clearTimeout(handle) {
    if (handle !== undefined) clearTimeout((handle as NodeTimerHandle).timer);
  },
};

interface ManualTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A clock that only moves when told to. Timers fire in deadline order (ties in creation order)
 * during `advance`, including timers scheduled by timers that fire within the same advance.
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers = new Map<number, ManualTimer>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), fn };
    this.#timers.set(timer.id, timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.#timers.delete(handle.id);
  }

  /** Number of timers still scheduled. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Move time forward by `ms`, firing every timer due on the way. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#earliest(target);
      if (due === undefined) break;
      this.#timers.delete(due.id);
      this.#now = due.at;
      due.fn();
    }
    this.#now = target;
  }

  #earliest(limit: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.#timers.values()) {
      if (
        t.at <= limit &&
        (best === undefined || t.at < best.at || (t.at === best.at && t.id < best.id))
      ) {
        best = t;
      }
    }
    return best;
  }
}
