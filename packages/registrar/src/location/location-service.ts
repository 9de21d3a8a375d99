/**
 * The location service boundary (RFC 3261 §10.3): where bindings live. Implementations: in
 * memory and Redis; both pass the same contract suite. Every method is safe to call concurrently;
 * `apply` is atomic (all of a REGISTER's changes or none, §10.3 step 7).
 */
import type { Binding } from './binding.js';

/** Why a binding left the location service other than by expiry. */
export type RemovalReason = 'unregistered' | 'flow-closed' | 'removed';

export type LocationEvents = {
  added: [binding: Binding];
  refreshed: [binding: Binding, previous: Binding];
  removed: [binding: Binding, reason: RemovalReason];
  expired: [binding: Binding];
};

/** One change of a REGISTER: add/refresh a binding, or remove the binding with this key. */
export type BindingOp = { kind: 'upsert'; binding: Binding } | { kind: 'remove'; key: string };

export interface BindingChange {
  aor: string;
  /** Call-ID and CSeq of the REGISTER, for the ordering rule of §10.3 steps 6–7. */
  callId: string;
  cseq: number;
  /** `Contact: *` with `Expires: 0`: remove every binding of the AOR (§10.3 step 6). */
  removeAll?: boolean;
  /** At most one op per binding key. */
  ops: readonly BindingOp[];
  /** Refuse a change that would leave more bindings than this (0 or absent: no limit). */
  maxBindings?: number;
}

export type LocationErrorCode = 'LOC_ERR_OUT_OF_ORDER' | 'LOC_ERR_TOO_MANY_BINDINGS';

export const LocationErrorCode = {
  OutOfOrder: 'LOC_ERR_OUT_OF_ORDER',
  TooManyBindings: 'LOC_ERR_TOO_MANY_BINDINGS',
} as const satisfies Record<string, LocationErrorCode>;

export type ApplyResult =
  | {
      ok: true;
      /** Every live binding of the AOR after the change, ordered (q, then most recent). */
      bindings: Binding[];
      added: Binding[];
      refreshed: Binding[];
      removed: Binding[];
    }
  | { ok: false; code: LocationErrorCode; key?: string };

export type LocationListener<K extends keyof LocationEvents> = (...args: LocationEvents[K]) => void;

export interface LocationService {
  /** Live bindings of an AOR, highest q first (then most recently updated). */
  lookup(aor: string): Promise<Binding[]>;
  /** Applies a REGISTER's changes atomically; nothing changes when the result is not ok. */
  apply(change: BindingChange): Promise<ApplyResult>;
  /**
   * `apply`, answered at once: offered by a service that holds its bindings in this process, so
   * that a REGISTER costs no promise (the registrar uses it when present).
   */
  applyNow?(change: BindingChange): ApplyResult;
  /** Removes one binding (administrative removal). */
  remove(aor: string, key: string): Promise<Binding | undefined>;
  /** Removes every binding that dies with this flow (RFC 5626 §6, the flow closed). */
  removeByFlow(flowKey: string): Promise<Binding[]>;
  /** Removes the bindings whose time is up now and reports them (also run by the service's timer). */
  expire(): Promise<Binding[]>;
  /** Every live binding, in no particular order. */
  bindings(): AsyncIterable<Binding>;
  /** Number of live bindings. */
  count(): Promise<number>;
  on<K extends keyof LocationEvents>(event: K, listener: LocationListener<K>): this;
  off<K extends keyof LocationEvents>(event: K, listener: LocationListener<K>): this;
  /** Stops timers and releases what the service owns; idempotent. */
  close(): Promise<void>;
}
