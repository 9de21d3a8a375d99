/**
 * Each worker runs its own relay on a disjoint slice of the RTP port range. The native relay's
 * `sockets` mode binds per port, and its `shared` mode steers by an (address × port) owner table
 * per relay, so disjoint ranges coexist in one network namespace without any coordination, and
 * a call's relay session lives in the worker that owns the call (no IPC per session or event).
 */
export interface PortRange {
  min: number;
  max: number;
}

/** Worker `index`'s slice of `range` among `workers`: even-aligned (RTP even, RTCP odd), the last takes the rest. */
export function relaySlice(range: PortRange, index: number, workers: number): PortRange {
  const base = range.min + (range.min % 2);
  const pairs = Math.floor((range.max - base + 1) / 2);
  const per = Math.floor(pairs / workers);
  if (per < 1)
    throw new RangeError(
      `RTP port range ${range.min}-${range.max} is too small for ${workers} workers`,
    );
  const min = base + index * per * 2;
  const max = index === workers - 1 ? range.max : min + per * 2 - 1;
  return { min, max };
}
