// Public entry of @switchboard/b2bua. Named exports only, grouped by layer
// (media interfaces → sdp → policy → signalling → call → b2bua).

// --- errors ---
export { B2buaError, B2buaErrorCode } from './b2bua-error.js';

// --- media interfaces (implemented by the control plane) ---
export type {
  MediaRelay,
  MediaRelaySession,
  MediaRelaySessionOptions,
  MediaRelaySessionEvents,
  MediaRelayStats,
  MediaRelaySideStats,
  RelayLocal,
  RelayRemote,
  RelaySide,
  RelaySideOptions,
} from './media/media-relay.js';
export type {
  MediaServer,
  MediaLeg,
  MediaLegOptions,
  MediaCodec,
  PlaySource,
  PlayOptions,
  PlayResult,
  CollectOptions,
  CollectResult,
  RecordOptions,
  RecordResult,
} from './media/media-server.js';

// --- sdp ---
export type { Sdp, SdpMedia, ParseSdpResult } from './sdp/parse-sdp.js';
export { parseSdp, writeSdp, MAX_SDP_SIZE } from './sdp/parse-sdp.js';
export type { CodecPolicy, PayloadInfo } from './sdp/codec-policy.js';
export { allowsMediaType, filterCodecs, payloadsOf } from './sdp/codec-policy.js';
export type { Direction } from './sdp/sdp-direction.js';
export { mediaDirection, isLegacyHold, isOnHold } from './sdp/sdp-direction.js';
export type { SdpOutcome, MediaAnchorOptions } from './sdp/anchor-state.js';
export { otherSide } from './sdp/anchor-state.js';
export { MediaAnchor } from './sdp/media-anchor.js';
export type { JoinOutcome } from './sdp/anchor-join.js';
export { SplicedSession } from './sdp/spliced-session.js';

// --- policy ---
export type { HeaderPolicy } from './policy/header-policy.js';
export { outboundHeaders } from './policy/header-policy.js';
export type { CallerIdPolicy, OutboundIdentity } from './policy/caller-id.js';
export { outboundIdentity, normalizeUriNumber } from './policy/caller-id.js';
export type { E164Options, E164Result } from './policy/e164.js';
export { normalizeE164, isE164 } from './policy/e164.js';

// --- signalling ---
export type { Refresher, TimerSettings, SessionExpires } from './signalling/session-timer.js';
export { SessionTimer, parseSessionExpires } from './signalling/session-timer.js';
export type { GlareRetryOptions } from './signalling/glare-retry.js';
export { glareDelay, withGlareRetry } from './signalling/glare-retry.js';

// --- trunk ---
export { ChannelLimiter } from './trunk/channel-limiter.js';
export type {
  TrunkRegistrationOptions,
  TrunkRegistrationState,
  TrunkRegistrationEvents,
} from './trunk/trunk-registration.js';
export { TrunkRegistration } from './trunk/trunk-registration.js';
export type { InboundTrunk, TrunkConfigError, TrunkMatcherResult } from './trunk/trunk-matcher.js';
export { TrunkMatcher } from './trunk/trunk-matcher.js';

// --- transfer ---
export type { TransferEvent } from './transfer/transfer.js';
export type { ReferTarget, ReplacesTarget, ReferToResult } from './transfer/refer-to.js';
export { parseReferTo, parseReplaces } from './transfer/refer-to.js';

// --- call ---
export { CallState, canTransition } from './call/call-state.js';
export type {
  CallPlan,
  OutboundTarget,
  RingStrategy,
  LegPolicy,
  SessionTimerOptions,
  CallEnd,
  CallEndReason,
  CallEvents,
  TransferPolicy,
  TransferRequest,
  TransferVerdict,
} from './call/call-types.js';
export type { LegRole } from './call/leg.js';
export { Leg } from './call/leg.js';
export type { CallOptions } from './call/call.js';
export { Call } from './call/call.js';
export { ALLOW } from './call/outbound-request.js';
export type { CallRegistry, RegisteredCall } from './call/call-registry.js';
export type { JoinDonor, ReplacedCall } from './transfer/call-join.js';

// --- b2bua ---
export type {
  B2buaOptions,
  B2buaEvents,
  B2buaStats,
  InviteDecision,
  InviteRouter,
} from './b2bua.js';
export { B2bua } from './b2bua.js';
