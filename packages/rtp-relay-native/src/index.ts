// --- relay ---
export { RtpRelay } from './rtp-relay.js';
export type { RtpRelayEvents } from './rtp-relay.js';
export { RelaySession } from './relay-session.js';

// --- errors ---
export { RtpErrorCode, RtpRelayError, isRtpRelayError } from './rtp-relay-error.js';

// --- types ---
export type {
  ClosedEvent,
  ClosedReason,
  DropCounters,
  KernelOptions,
  LatchedEvent,
  LatchingMode,
  LocalAddressOptions,
  MediaChannel,
  MediaPath,
  PortMode,
  PortModeOption,
  RelayInfo,
  RelayMode,
  RelaySessionEvents,
  RelaySessionOptions,
  RelaySessionStats,
  RelaySideInfo,
  RelaySideOptions,
  RelaySideStats,
  RemoteEndpoint,
  RtpRelayLogger,
  RtpRelayOptions,
  SessionSide,
  SourceChangedEvent,
  SourceChangePolicy,
  TimeoutEvent,
} from './relay-types.js';
