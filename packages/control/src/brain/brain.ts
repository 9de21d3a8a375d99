import type { CtlErrorCode } from '../errors/ctl-errors.js';
import type { RouteDecision } from './directive.js';

export type DigestAlgorithmName =
  'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

/** Digest credentials the edge parsed from Authorization / Proxy-Authorization (RFC 7616 §3.4). */
export interface AuthRequest {
  method: string;
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm?: DigestAlgorithmName;
  cnonce?: string;
  nc?: string;
  qop?: 'auth' | 'auth-int';
  /** H(body) hex for qop auth-int. */
  bodyHash?: string;
}

export type AuthDecision =
  | { ok: true; accountId: string; userId: string; deviceId: string }
  | {
      ok: false;
      code: CtlErrorCode;
      reason: string;
      /** SIP status for the edge */ status: number;
    };

export interface CallParty {
  user: string;
  host: string;
  displayName?: string;
}

export interface RouteRequest {
  callId: string;
  /** Request-URI user and host: what was dialled. */
  to: CallParty;
  from: CallParty;
  /** The authenticated caller, when the edge authenticated one. */
  caller?: { accountId: string; userId: string; deviceId?: string };
  /** The trunk the call arrived on, when the edge identified one. */
  trunkId?: string;
  /** Privacy: id was requested (RFC 3323 §4.2). */
  privacy?: boolean;
}

export type AdmitDirection = 'inbound' | 'outbound' | 'internal' | 'dialer';

export interface AdmitRequest {
  callId: string;
  accountId: string;
  direction: AdmitDirection;
  /** Users whose max_simultaneous applies (caller for outbound, callee for inbound, both internal). */
  userIds?: string[];
  didId?: string;
  trunkId?: string;
  /** Reservation lifetime unless refreshed by a dialog event (default 300). */
  ttlSec?: number;
}

export type AdmitDecision =
  | { ok: true; callId: string; counters: string[]; expiresAt: number }
  | {
      ok: false;
      code: CtlErrorCode;
      reason: string;
      /** the counter or call_limit that refused */ limit: string;
      status: number;
    };

export interface CallEnd {
  answeredAt?: number;
  endedAt?: number;
  disposition: 'answered' | 'no_answer' | 'busy' | 'failed' | 'rejected';
  hangupCause?: string;
}

export interface ReleaseRequest {
  callId: string;
  /** When given, the call's CDR is completed, priced and the wallet debited. */
  end?: CallEnd;
}

export interface ReleaseResult {
  ok: true;
  released: boolean;
  counters: string[];
}

export type PresenceEvent =
  | {
      /** A device registered or went; reachable/unreachable: its contact answers OPTIONS or not. */
      type: 'registered' | 'unregistered' | 'reachable' | 'unreachable';
      accountId: string;
      userId: string;
      deviceId: string;
    }
  | { type: 'dialog'; callId: string; state: 'early' | 'confirmed' | 'refreshed' | 'terminated' };

export interface PresenceAck {
  ok: boolean;
  /** For dialog events: the reservation was found (and refreshed or released). */
  known: boolean;
}

export interface CounterStatus {
  current: number;
  limit: number | null;
}

export interface AccountCacStatus {
  accountId: string;
  counters: Record<string, CounterStatus>;
  reservations: number;
  /** call_limit id → calls admitted in its current window. */
  windows: Record<string, number>;
}

export interface CacStatus {
  accounts: AccountCacStatus[];
}

/**
 * The decisions the edge asks for (DESIGN.md "The brain and the edge"). Implemented in-process
 * (`LocalBrain`) and carried over HTTP (`HttpBrain`); both pass the same contract tests.
 * Untrusted input never throws: refusals are values.
 */
export interface Brain {
  authenticate(req: AuthRequest): Promise<AuthDecision>;
  route(req: RouteRequest): Promise<RouteDecision>;
  presenceEvent(event: PresenceEvent): Promise<PresenceAck>;
  admit(req: AdmitRequest): Promise<AdmitDecision>;
  release(req: ReleaseRequest): Promise<ReleaseResult>;
  cacStatus(accountId?: string): Promise<CacStatus>;
  cacReset(accountId?: string): Promise<{ ok: true; cleared: number }>;
}
