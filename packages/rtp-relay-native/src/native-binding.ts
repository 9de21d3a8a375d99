import { createRequire } from 'node:module';
import { RtpErrorCode, RtpRelayError } from './rtp-relay-error.js';

// Shapes of the N-API module built from the Rust crate (see rust/binding.rs).

export interface NativeRelayOptions {
  addresses: Array<{ address: string; advertised?: string }>;
  portMin: number;
  portMax: number;
  threads?: number;
  timeoutMs?: number;
  learnWindowMs?: number;
  maxPacketSize?: number;
  fileLimit?: number;
  kernel?: boolean;
  kernelInterfaces?: string[];
  kernelPollMs?: number;
  portMode?: string;
}

export interface NativeEvent {
  kind: string;
  sessionId: number;
  side?: string;
  channel?: string;
  address?: string;
  port?: number;
  fromAddress?: string;
  fromPort?: number;
  idleMs?: number;
}

export interface NativeSessionOptions {
  latching?: string;
  strictSource?: boolean;
  sourceChange?: string;
  learnWindowMs?: number;
  timeoutMs?: number;
  a?: { addressIndex?: number; rtcpMux?: boolean };
  b?: { addressIndex?: number; rtcpMux?: boolean };
  clockRates?: Array<{ payloadType: number; clockRate: number }>;
}

export interface NativeSideInfo {
  address: string;
  localAddress: string;
  rtpPort: number;
  rtcpPort?: number;
}

export interface NativeSessionInfo {
  id: number;
  a: NativeSideInfo;
  b: NativeSideInfo;
}

export interface NativeRemote {
  address: string;
  rtpPort: number;
  rtcpPort?: number;
  rtcpMux?: boolean;
}

export interface NativeSideStats {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  kernelPackets: number;
  kernelBytes: number;
  dropped: {
    garbage: number;
    notRtp: number;
    oversize: number;
    unexpectedSource: number;
    noRemote: number;
    sendError: number;
  };
  rtpExpected: number;
  rtpLost: number;
  jitter: number;
  jitterMs: number;
  lastPacketAt?: number;
  latchedAddress?: string;
  latchedPort?: number;
  path: string;
}

export interface NativeRelayInfo {
  mode: string;
  reason: string;
  threads: number;
  fileLimit?: number;
  portsTotal: number;
  portsFree: number;
  sessions: number;
  portMode: string;
  portModeReason: string;
  unusedPortDrops: number;
}

export interface NativeRelay {
  info(): NativeRelayInfo;
  createSession(options: NativeSessionOptions): NativeSessionInfo;
  setRemote(id: number, side: string, remote: NativeRemote): void;
  stats(id: number): { a: NativeSideStats; b: NativeSideStats };
  closeSession(id: number): boolean;
  close(): void;
}

export interface NativeModule {
  NativeRelay: new (
    options: NativeRelayOptions,
    onEvents: (events: NativeEvent[]) => void,
  ) => NativeRelay;
}

let cached: NativeModule | undefined;

/** Loads `native/rtp-relay.node` (built by `npm run build`), once. */
export function loadNative(): NativeModule {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = require('../native/rtp-relay.node') as NativeModule;
  } catch (error) {
    throw new RtpRelayError(
      RtpErrorCode.NativeLoad,
      'the native RTP relay is not built: run `npm run build` in the rtp-relay package',
      { cause: error },
    );
  }
  return cached;
}
