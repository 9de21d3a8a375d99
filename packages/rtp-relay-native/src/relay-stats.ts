import type { RelaySessionStats, RelaySideStats } from './relay-types.js';

/**
 * Session stats cross from Rust as numbers in one reused buffer (`statsInto`), and the
 * objects are built here, where V8 builds them fast. Layout per side, as in
 * rust/binding.rs `write_side_stats` (keep in sync with `STATS_SIDE` there).
 */
export const STATS_SIDE = 21;

const Field = {
  packetsIn: 0,
  bytesIn: 1,
  packetsOut: 2,
  bytesOut: 3,
  kernelPackets: 4,
  kernelBytes: 5,
  garbage: 6,
  notRtp: 7,
  oversize: 8,
  unexpectedSource: 9,
  noRemote: 10,
  sendError: 11,
  rtpExpected: 12,
  rtpLost: 13,
  jitter: 14,
  jitterMs: 15,
  lastPacketAt: 16,
  latchedFamily: 17,
  latchedPort: 18,
  latchedIpv4: 19,
  path: 20,
} as const;

/** The buffer `statsInto` fills; stats are read out of it before the next call. */
export function statsBuffer(): Float64Array {
  return new Float64Array(2 * STATS_SIDE);
}

function ipv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function sideStats(v: Float64Array, o: number, v6: string | undefined): RelaySideStats {
  const last = v[o + Field.lastPacketAt] as number;
  const family = v[o + Field.latchedFamily];
  const address =
    family === 4 ? ipv4(v[o + Field.latchedIpv4] as number) : family === 6 ? v6 : undefined;
  return {
    packetsIn: v[o + Field.packetsIn] as number,
    bytesIn: v[o + Field.bytesIn] as number,
    packetsOut: v[o + Field.packetsOut] as number,
    bytesOut: v[o + Field.bytesOut] as number,
    kernelPackets: v[o + Field.kernelPackets] as number,
    kernelBytes: v[o + Field.kernelBytes] as number,
    dropped: {
      garbage: v[o + Field.garbage] as number,
      notRtp: v[o + Field.notRtp] as number,
      oversize: v[o + Field.oversize] as number,
      unexpectedSource: v[o + Field.unexpectedSource] as number,
      noRemote: v[o + Field.noRemote] as number,
      sendError: v[o + Field.sendError] as number,
    },
    rtpExpected: v[o + Field.rtpExpected] as number,
    rtpLost: v[o + Field.rtpLost] as number,
    jitter: v[o + Field.jitter] as number,
    jitterMs: v[o + Field.jitterMs] as number,
    lastPacketAt: Number.isNaN(last) ? undefined : last,
    latched:
      address !== undefined ? { address, port: v[o + Field.latchedPort] as number } : undefined,
    path: v[o + Field.path] === 1 ? 'kernel' : 'userspace',
  };
}

/** Both sides' stats from a filled buffer and the IPv6 latched addresses, if any. */
export function sessionStats(
  v: Float64Array,
  v6: readonly string[] | null | undefined,
): RelaySessionStats {
  return { a: sideStats(v, 0, v6?.[0]), b: sideStats(v, STATS_SIDE, v6?.[1]) };
}
