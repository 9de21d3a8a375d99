/** What a call is asked to do (the plan), and what it reports (events, end causes). */
import type {
  DigestCredentialSource,
  HeaderValues,
  SipResponse,
  Target,
} from '@switchboard/sip-stack';
import type { RelaySide } from '../media/media-relay.js';
import type { CallerIdPolicy } from '../policy/caller-id.js';
import type { HeaderPolicy } from '../policy/header-policy.js';
import type { CodecPolicy } from '../sdp/codec-policy.js';
import type { ChannelLimiter } from '../trunk/channel-limiter.js';
import type { TransferEvent } from '../transfer/transfer.js';
import type { CallState } from './call-state.js';
import type { Leg } from './leg.js';

/** One destination of the outgoing leg; several are forked per the plan's `ring` strategy. */
export interface OutboundTarget {
  /** Request-URI (and To) of the outgoing INVITE. */
  uri: string;
  /** Explicit next hop (skips RFC 3263), e.g. a registered contact's flow or a trunk's proxy. */
  target?: Target;
  /** Pre-loaded Route set (outbound proxy). */
  route?: readonly string[];
  /** Answers a 401/407 of the callee or carrier (RFC 3261 §22.2). */
  credentials?: DigestCredentialSource;
  /** Extra headers for this target only. */
  headers?: HeaderValues;
  /** Sequential ringing: targets of one step ring together, steps in ascending order (default: list order). */
  step?: number;
  /** Start ringing this long after the step starts (parallel ring with per-target delays). */
  delayMs?: number;
  /** Give up on (CANCEL) this target after this long; the plan's answer timeout still applies. */
  timeoutMs?: number;
}

/** RFC 3261 §16.6-style forking: all targets at once, or one step after another. */
export type RingStrategy = 'parallel' | 'sequential';

/** RFC 4028 session timers as this B2BUA runs them on each leg. */
export interface SessionTimerOptions {
  /** Session interval we ask for, in seconds (default 1800). */
  interval?: number;
  /** Smallest interval we accept, in seconds (RFC 4028 §5: at least 90; default 90). */
  minSE?: number;
}

/** Policy of the outgoing leg (usually a trunk's). */
export interface LegPolicy {
  headers?: HeaderPolicy;
  callerId?: CallerIdPolicy;
  codecs?: CodecPolicy;
}

export interface CallPlan {
  /** The first 2xx wins, the others are cancelled. */
  targets: readonly OutboundTarget[];
  /** How the targets are rung (default 'parallel'). */
  ring?: RingStrategy;
  policy?: LegPolicy;
  /** No answer within this many ms: the forks are cancelled and the caller gets 480 (default 60000). */
  answerTimeoutMs?: number;
  /** Session timers on both legs (off when undefined). */
  sessionTimer?: SessionTimerOptions;
  /** `max_channels` of the trunk, account...: one channel of each is held for the call's life. */
  channels?: readonly ChannelLimiter[];
  /**
   * Who may send this call elsewhere with REFER (RFC 3515). Without a policy every blind
   * transfer target is dialled as given, which lets either party make us call any URI: set one
   * wherever the parties are not trusted (trunks, the public).
   */
  transfer?: TransferPolicy;
}

/** A REFER target to judge: the side that sent the REFER and where it wants the call to go. */
export interface TransferRequest {
  side: RelaySide;
  uri: string;
}

/** Allowed (optionally to another URI, e.g. the trunk the routing chose), or refused with a status. */
export type TransferVerdict = { allow: true; uri?: string } | { allow: false; status: number };

export type TransferPolicy = (
  request: TransferRequest,
) => TransferVerdict | Promise<TransferVerdict>;

/** Why a call ended. */
export type CallEndReason =
  /** The caller sent CANCEL before an answer. */
  | 'caller-cancelled'
  /** Every fork failed; the caller got their best final response. */
  | 'rejected'
  /** Nobody answered within the answer timeout. */
  | 'no-answer'
  /** A party hung up with BYE. */
  | 'hangup'
  /** Our 2xx to the caller was never acknowledged (RFC 3261 §13.3.1.4). */
  | 'ack-timeout'
  /** RFC 4028: a session was not refreshed in time. */
  | 'session-expired'
  /** An in-dialog request failed with 481/408 or no answer (RFC 3261 §12.2.1.2). */
  | 'dialog-failed'
  /** Bad or unacceptable session description. */
  | 'media-failed'
  /** `call.hangup()` was called. */
  | 'local'
  /** An attended transfer joined this call's remaining party into another call (RFC 3891). */
  | 'replaced'
  /** An internal failure (the caller got 500). */
  | 'error';

export interface CallEnd {
  reason: CallEndReason;
  /** Final status the caller got, when the call ended before an answer. */
  status?: number;
  /** The side that caused the end (hung up, failed to ACK...). */
  side?: RelaySide;
}

export type CallEvents = {
  state: [state: CallState, previous: CallState];
  /** A provisional response of a callee, relayed to the caller. */
  progress: [response: SipResponse];
  /** The call was answered; both legs are dialogs. */
  answered: [];
  /** A leg was attached (the caller's, the winning callee's, a transfer target's). */
  leg: [leg: Leg];
  /** An offer/answer exchange completed in a confirmed call (re-INVITE or UPDATE). */
  renegotiated: [from: RelaySide];
  /** INFO crossed the call (e.g. DTMF as application/dtmf-relay). */
  info: [from: RelaySide, contentType: string | undefined, body: string];
  /** A REFER was carried out (status 200) or failed (the target's final status). */
  transferred: [event: TransferEvent];
  ended: [end: CallEnd];
};
