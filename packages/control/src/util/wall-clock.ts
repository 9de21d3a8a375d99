/**
 * Wall time for the control plane (schedules, CDR times, reservation TTLs, sliding windows).
 * Injected so tests move time instantly. Times in the database are epoch seconds.
 */
export interface WallClock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

export const systemWallClock: WallClock = { nowMs: () => Date.now() };

/** A wall clock that only moves when told to. */
export class ManualWallClock implements WallClock {
  #ms: number;

  constructor(startMs = Date.UTC(2025, 0, 6, 12, 0, 0)) {
    this.#ms = startMs;
  }

  nowMs(): number {
    return this.#ms;
  }

  set(ms: number): void {
    this.#ms = ms;
  }

  advance(ms: number): void {
    this.#ms += ms;
  }
}

export function epochSeconds(clock: WallClock): number {
  return Math.floor(clock.nowMs() / 1000);
}
