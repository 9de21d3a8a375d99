/**
 * The default clock of the registrar: wall time (`Date.now`), because binding expiry times are
 * shared between nodes through Redis and must mean the same instant everywhere. Timers come from
 * the stack's system clock (unref'd).
 */
import { systemClock, type Clock } from '@switchboard/sip-stack';

export const wallClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
  clearTimeout: (handle) => systemClock.clearTimeout(handle),
};
