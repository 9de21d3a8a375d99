/** `max_channels` of a trunk or account: how many calls may use it at once. */

export class ChannelLimiter {
  readonly max: number;
  #inUse = 0;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 0)
      throw new RangeError(`max_channels must be a whole number ≥ 0, got ${max}`);
    this.max = max;
  }

  get inUse(): number {
    return this.#inUse;
  }

  /** Takes a channel; returns its release function (safe to call twice), or undefined when full. */
  tryAcquire(): (() => void) | undefined {
    if (this.#inUse >= this.max) return undefined;
    this.#inUse++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse--;
    };
  }
}

/** One channel of every limiter, or none (what was taken is given back); the release function. */
export function holdChannels(limiters: readonly ChannelLimiter[]): (() => void) | undefined {
  const held: (() => void)[] = [];
  for (const limiter of limiters) {
    const release = limiter.tryAcquire();
    if (release === undefined) {
      for (const r of held) r();
      return undefined;
    }
    held.push(release);
  }
  return () => {
    for (const r of held.splice(0)) r();
  };
}
