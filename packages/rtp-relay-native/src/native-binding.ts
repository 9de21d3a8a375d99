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
  /** `side`: 0 (a) or 1 (b). */
  setRemote(
    id: number,
    side: number,
    address: string,
    rtpPort: number,
    rtcpPort: number | undefined,
    rtcpMux: boolean,
  ): void;
  /** Fills `out` (see relay-stats.ts); returns the latched addresses when one is IPv6. */
  statsInto(id: number, out: Float64Array): string[] | null | undefined;
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
