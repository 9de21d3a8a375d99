import type { CtlErrorCode } from '../errors/ctl-errors.js';
import type { DestKind } from '../store/table-spec.js';

/** One device to ring: the edge looks up the contacts of `aor` in its location service. */
export interface ForkLeg {
  userId: string;
  deviceId: string;
  /** `sip:auth_username@realm`: the address the device registers. */
  aor: string;
  /** Sequential plans ring steps in order; legs of one step ring together. Parallel plans use 0. */
  step: number;
  /** Start ringing this long after the plan starts (ring_all with per-member delays). */
  delaySec: number;
  /** Give up on this leg after this long; null = until the plan's timeout. */
  timeoutSec: number | null;
  webrtc: boolean;
}

/** How to fork: all legs at once (each after its delay), or one after another in order. */
export interface ForkPlan {
  strategy: 'parallel' | 'sequential';
  ringTimeoutSec: number;
  legs: ForkLeg[];
  /** What produced the plan. */
  source: { kind: 'user' | 'ring_group'; id: string };
}

/** Proxy to registered contacts; continuations say what to do on busy / no answer. */
export interface ProxyDirective {
  kind: 'proxy';
  accountId: string;
  fork: ForkPlan;
  onBusy: Directive | null;
  onNoAnswer: Directive | null;
}

/** Answer and run something: a call flow, a queue, a voicemail box or a conference room. */
export interface FlowDirective {
  kind: 'flow';
  accountId: string;
  app: 'call_flow' | 'queue' | 'voicemail' | 'conference';
  targetId: string;
  /** call_flow only: the graph version to run. */
  version?: number;
  variables: Record<string, unknown>;
}

/** One trunk to try, with the number as this hop must send it. */
export interface TrunkHop {
  trunkId: string;
  host: string;
  port: number | null;
  transport: 'udp' | 'tcp' | 'tls';
  number: string;
  authUsername: string | null;
  authSecretRef: string | null;
  customHeaders: Record<string, string> | null;
  maxChannels: number | null;
  /** Caller ID to present on this hop (the trunk's forced one, else the directive's). */
  callerId: string | null;
}

/** Out to a carrier or PBX: trunks in failover order. */
export interface OutboundDirective {
  kind: 'outbound';
  accountId: string;
  /** Dialled number after normalisation and the route's transforms. */
  number: string;
  callerId: string | null;
  routeId: string | null;
  trunks: TrunkHop[];
}

export interface RejectDirective {
  kind: 'reject';
  /** SIP status to answer with. */
  status: number;
  reason: string;
  code: CtlErrorCode;
}

export type Directive = ProxyDirective | FlowDirective | OutboundDirective | RejectDirective;

export type CallDirectionKind = 'inbound' | 'internal' | 'outbound';

export interface RouteDecision {
  /** Null when the call was refused before a direction was known (null, not absent: JSON-stable). */
  direction: CallDirectionKind | null;
  accountId: string | null;
  /** The route target that produced the directive (after schedule and forwarding). */
  target: { kind: DestKind; id: string | null } | null;
  /** DID the call came in on (inbound). */
  didId?: string;
  directive: Directive;
}

export function reject(status: number, reason: string, code: CtlErrorCode): RejectDirective {
  return { kind: 'reject', status, reason, code };
}
