/** A registered contact of an address-of-record (RFC 3261 §10, RFC 5626 §6) and its ordering. */
import type { Flow, Target, TransportProtocol } from '@switchboard/sip-stack';

/** Who registered a binding, as the authenticator reported it (kept for presence events). */
export interface AuthIdentity {
  username: string;
  realm?: string;
  /** Opaque values of the control plane (account, user, device ids). */
  attributes?: Readonly<Record<string, string>>;
}

/** The public source of a REGISTER that arrived through a NAT (RFC 3581 received/rport). */
export interface ReceivedAddress {
  protocol: TransportProtocol;
  address: string;
  port: number;
}

export interface Binding {
  /** Canonical address-of-record, `user@domain` (RFC 3261 §10.3 step 5). */
  readonly aor: string;
  /**
   * Identity of the binding within its AOR: `ob|<instance>|<reg-id>` for an RFC 5626 flow,
   * `inst|<instance>` for a `+sip.instance` without outbound, else the canonical Contact URI
   * (RFC 3261 §19.1.4; the `|` prefixes cannot start a URI).
   */
  readonly key: string;
  /** The Contact URI as registered: the Request-URI of requests for this binding. */
  readonly uri: string;
  /** The Contact header value echoed in 200 responses (every parameter except `expires`). */
  readonly contact: string;
  /** q-value (0..1); absent when the UA gave none (ordered as 1.0). */
  readonly q?: number;
  /** Clock time (ms) at which the binding expires. */
  readonly expiresAt: number;
  readonly callId: string;
  readonly cseq: number;
  /** `+sip.instance` without quotes (RFC 5626 §4.1). */
  readonly instanceId?: string;
  /** `reg-id` when the binding is an RFC 5626 flow. */
  readonly regId?: number;
  /** Path header values of the REGISTER, in order (RFC 3327 §5.3). */
  readonly path?: readonly string[];
  /** Where the REGISTER came from. */
  readonly source: Flow;
  /** Set when the REGISTER came from an address other than its Contact's (NAT); may be `target` itself. */
  readonly received?: ReceivedAddress;
  /**
   * Where requests for this binding are sent: the flow (outbound), the NAT pinhole (received),
   * the first Path hop or the Contact address when it is an IP literal. Absent when the Contact
   * names a host that needs RFC 3263 resolution.
   */
  readonly target?: Target;
  /** RFC 5626 outbound was negotiated for this binding. */
  readonly outbound: boolean;
  /** The binding dies when this flow closes (`<node>|<flowId>`). */
  readonly flowKey?: string;
  readonly userAgent?: string;
  readonly identity?: AuthIdentity;
  /** Clock time of the first registration of this binding. */
  readonly registeredAt: number;
  /** Clock time of the last REGISTER that touched it. */
  readonly updatedAt: number;
}

/** q ordering value: an absent q is ordered as 1.0. */
function qOf(b: Binding): number {
  return b.q ?? 1;
}

/** Highest q first; among equal q the most recently updated first. */
export function compareBindings(a: Binding, b: Binding): number {
  return (
    qOf(b) - qOf(a) || b.updatedAt - a.updatedAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  );
}

/** Seconds left before `b` expires at clock time `now` (rounded up, never negative). */
export function remainingSeconds(b: Binding, now: number): number {
  return Math.max(0, Math.ceil((b.expiresAt - now) / 1000));
}
