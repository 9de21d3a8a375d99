/**
 * RFC 3261 §17 / Table 4 timer values, and RFC 6026 Timers L and M.
 * T1, T2 and T4 are configurable; every other timer derives from them (Timer D has its own floor).
 */
export interface TimerConfig {
  /** RTT estimate, ms (RFC 3261 §17.1.1.1 default 500). */
  readonly T1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, ms (default 4000). */
  readonly T2: number;
  /** Maximum duration a message remains in the network, ms (default 5000). */
  readonly T4: number;
  /** Timer D for unreliable transports, ms (RFC 3261 Table 4: "> 32s for UDP"). */
  readonly timerD: number;
  /** Proxy INVITE transaction timeout, ms (RFC 3261 §16.6 step 11: "> 3min"); used by the proxy core. */
  readonly timerC: number;
}

export const DEFAULT_TIMERS: TimerConfig = Object.freeze({
  T1: 500,
  T2: 4000,
  T4: 5000,
  timerD: 32_000,
  timerC: 185_000, // RFC 3261 §16.6 item 11: greater than 3 minutes
});

export function resolveTimers(partial?: Partial<TimerConfig>): TimerConfig {
  if (partial === undefined) return DEFAULT_TIMERS;
  return Object.freeze({ ...DEFAULT_TIMERS, ...partial });
}

/** 64*T1: Timers B, F, H, J (RFC 3261) and L, M (RFC 6026). */
export function transactionTimeout(timers: TimerConfig): number {
  return 64 * timers.T1;
}
