import type { RateInfo } from '../store/records-store.js';

/**
 * Price of a call at its end (issue 4: longest-prefix rate, billing increments): nothing when it
 * was not answered; otherwise the connect fee plus the per-minute price for the billable seconds,
 * rounded up to the initial increment, then to whole further increments. Micro-units, rounded up.
 */
export function priceCall(rate: RateInfo | undefined, billsec: number): number {
  if (rate === undefined || billsec <= 0) return 0;
  const first = rate.initialIncrementSec;
  const billable =
    billsec <= first
      ? first
      : first + Math.ceil((billsec - first) / rate.incrementSec) * rate.incrementSec;
  return rate.connectFeeMicros + Math.ceil((rate.pricePerMinMicros * billable) / 60);
}
