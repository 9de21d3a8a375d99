import type { SipRequest, SipResponse } from '../message/sip-message.js';
import { isStreamProtocol, type Flow, type Target } from '../transport/transport.js';
import { transactionTimeout } from './timer-config.js';
import {
  assertTransition,
  serverEnv,
  transportError,
  type ServerTransactionEnv,
  type ServerTransactionOptions,
  type ServerTransactionStart,
} from './transaction.js';
import { TransactionTimer } from './transaction-timer.js';
import { requestLine, restoreRequest } from './request-summary.js';
import { WireMessage } from './wire-message.js';

/** RFC 3261 Figure 8. */
export const NonInviteServerState = Object.freeze({
  Trying: 'Trying',
  Proceeding: 'Proceeding',
  Completed: 'Completed',
  Terminated: 'Terminated',
} as const);
export type NonInviteServerState = (typeof NonInviteServerState)[keyof typeof NonInviteServerState];

const TRANSITIONS: Readonly<Record<NonInviteServerState, readonly NonInviteServerState[]>> =
  Object.freeze({
    Trying: ['Proceeding', 'Completed', 'Terminated'],
    Proceeding: ['Completed', 'Terminated'],
    Completed: ['Terminated'],
    Terminated: [],
  });

/**
 * RFC 3261 Figure 8. Completed over an unreliable transport lasts 64*T1 only to absorb
 * retransmissions (§17.2.2), and most transactions a server runs end there, so a completed
 * transaction keeps the minimum: its key, the flow, where retransmissions go, the bytes of its
 * final response (a latin1 string) and its request line (shared between transactions). Everything
 * else it needs lives in the env its layer shares between all of them.
 */
export class NonInviteServerTransaction {
  readonly flow: Flow;
  /** The key the transaction layer files this transaction under (RFC 3261 §17.2.3). */
  readonly key: string;
  readonly #env: ServerTransactionEnv;
  #state: NonInviteServerState = 'Trying';
  /** Where responses go; the flow of the first send once it went out (see WireMessage). */
  #target: Target;
  /** The last response; in Completed over UDP only the bytes of the final (see `#keep`). */
  #response: WireMessage | string | undefined;
  /** The request; in Completed over UDP its request line only (see `request`). */
  #request: SipRequest | string;
  /** Timer J when no layer shares one (`ServerTransactionOptions.timerJ`). */
  #timerJ: TransactionTimer | undefined;
  /**
   * Completed over UDP with the final in the layer's store (`ServerTransactionEnv.completed`):
   * the clock time Timer J fires. The layer answers retransmissions from the store and this
   * object is no longer filed anywhere; it reads as Terminated from then on.
   */
  #storedUntil: number | undefined;

  constructor(options: ServerTransactionOptions);
  constructor(start: ServerTransactionStart, env: ServerTransactionEnv);
  constructor(
    options: ServerTransactionOptions | ServerTransactionStart,
    env?: ServerTransactionEnv,
  ) {
    this.#request = options.request;
    this.flow = options.flow;
    this.#target = options.target;
    this.key = options.key ?? '';
    this.#env = env ?? serverEnv(options as ServerTransactionOptions);
  }

  get kind(): 'non-invite-server' {
    return 'non-invite-server';
  }

  get state(): NonInviteServerState {
    const until = this.#storedUntil;
    if (until !== undefined && this.#state === 'Completed' && this.#env.clock.now() >= until)
      this.#transition('Terminated'); // Timer J (RFC 3261 §17.2.2), kept by the store
    return this.#state;
  }

  get reliable(): boolean {
    return isStreamProtocol(this.flow.protocol);
  }

  /** Where responses go (RFC 3261 §18.2.2); once sent, the flow the first response used. */
  get target(): Target {
    return this.#target;
  }

  /**
   * The request. In Completed over an unreliable transport the transaction keeps only its
   * request line and the bytes of its response: this is then a request rebuilt from those (the
   * request line, and Via, From, To, Call-ID, CSeq as the response copied them), not the object
   * received.
   */
  get request(): SipRequest {
    const r = this.#request;
    if (typeof r !== 'string') return r;
    const restored = restoreRequest(r, this.#responseBytes());
    this.#request = restored;
    return restored;
  }

  /** The last response sent; undefined in Completed over UDP, where only its bytes are kept. */
  get lastResponse(): SipResponse | undefined {
    const r = this.#response;
    return r instanceof WireMessage ? (r.message as SipResponse | undefined) : undefined;
  }

  /** Nothing to arm: a non-INVITE server transaction starts in Trying with no timer (Figure 8). */
  start(): void {}

  /** A response from the TU; false when the state does not take it (a final was already sent). */
  respond(response: SipResponse): boolean {
    if (this.#state !== 'Trying' && this.#state !== 'Proceeding') return false;
    const wire = new WireMessage(this.#env.transport, response, this.#target, this);
    this.#response = wire;
    if (response.status < 200) {
      // RFC 3261 §17.2.2: 1xx from the TU → Proceeding.
      if (this.#state === 'Trying') this.#transition('Proceeding');
      wire.send();
      return true;
    }
    // RFC 3261 §17.2.2: final from the TU → Completed; Timer J = 64*T1 unreliable, 0 reliable.
    this.#transition('Completed');
    // RFC 3261 §8.2.7: a challenge can be sent statelessly; nothing is kept for retransmissions.
    const stateless =
      (response.status === 401 || response.status === 407) &&
      this.#env.statelessChallenges.includes(this.#method());
    if (this.reliable || stateless) {
      wire.send();
      this.#onTimerJ();
      return true;
    }
    // Completed waits 64*T1 only to absorb retransmissions: keep bytes, not parsed messages.
    const r = this.#request;
    if (typeof r !== 'string') this.#request = requestLine(r);
    wire.keepBytesOnly();
    wire.send();
    if (this.#storedUntil !== undefined) {
      // the layer's store holds the bytes (see wireEncoded) and runs Timer J
      this.#response = undefined;
      this.#env.hooks.onStored?.(this);
    } else if (this.state === 'Completed') {
      this.#armTimerJ();
    }
    return true;
  }

  /** A retransmission of the request (RFC 3261 §17.2.2). */
  receiveRequest(): void {
    // Trying absorbs; Proceeding resends the last provisional; Completed resends the final.
    const state = this.state;
    if (state !== 'Proceeding' && state !== 'Completed') return;
    if (this.#storedUntil !== undefined) {
      const stored = this.#env.completed?.find(this.key, this.#env.clock.now());
      if (stored !== undefined)
        WireMessage.fromBytes(this.#env.transport, stored.bytes, stored.target, this).resend();
      return;
    }
    let r = this.#response;
    if (typeof r === 'string') {
      // the first retransmission: the bytes become a Buffer again, reused from now on
      r = WireMessage.fromBytes(this.#env.transport, r, this.#target, this);
      this.#response = r;
    }
    r?.resend();
  }

  /** RFC 3261 §17.2.4 / Figure 8: transport failure in Proceeding or Completed → Terminated, TU informed. */
  receiveTransportError(cause: unknown): void {
    if (this.#state !== 'Proceeding' && this.#state !== 'Completed') return;
    this.#terminate();
    this.#env.hooks.onError?.(transportError(cause), this);
  }

  /** @internal WireOwner: the final went out and only its bytes are kept (see `respond`). */
  wireKept(bytes: string, target: Target): void {
    if (this.#state === 'Terminated' || this.#storedUntil !== undefined) return;
    this.#response = bytes;
    this.#target = target;
  }

  /**
   * @internal WireOwner: the bytes of the final, before they go out over UDP. The layer's store
   * takes them when it can (RFC 3261 §17.2.2: only retransmissions need them now).
   */
  wireEncoded(bytes: Buffer, target: Target): boolean {
    const env = this.#env;
    const store = env.completed;
    if (store === undefined || this.#state !== 'Completed' || this.reliable) return false;
    const now = env.clock.now();
    const until = now + transactionTimeout(env.timers);
    if (!store.add(this.key, bytes, target, until, now)) return false;
    this.#storedUntil = until;
    this.#target = target;
    return true;
  }

  dispose(): void {
    if (this.#state === 'Terminated') return;
    this.#terminate();
  }

  /** @internal Timer J fired in the layer's shared queue (`ServerTransactionOptions.timerJ`). */
  expire(): void {
    this.#onTimerJ();
  }

  #method(): string {
    const r = this.#request;
    return typeof r === 'string' ? r.slice(0, Math.max(r.indexOf(' '), 0)) : r.method;
  }

  #armTimerJ(): void {
    const env = this.#env;
    if (env.timerJ !== undefined) {
      env.timerJ.add(this);
      return;
    }
    this.#timerJ = new TransactionTimer(env.clock, () => this.#onTimerJ());
    this.#timerJ.start(transactionTimeout(env.timers));
  }

  #responseBytes(): Buffer | undefined {
    if (this.#storedUntil !== undefined)
      return this.#env.completed?.find(this.key, this.#env.clock.now())?.bytes;
    const r = this.#response;
    if (r === undefined) return undefined;
    return typeof r === 'string' ? Buffer.from(r, 'latin1') : r.bytes();
  }

  #onTimerJ(): void {
    if (this.#state === 'Completed') this.#terminate();
  }

  #terminate(): void {
    this.#timerJ?.stop();
    const until = this.#storedUntil;
    // (past its deadline the key may already be another transaction's)
    if (until !== undefined && this.#env.clock.now() < until) this.#env.completed?.delete(this.key);
    this.#transition('Terminated');
    this.#env.hooks.onTerminated?.(this);
  }

  #transition(next: NonInviteServerState): void {
    assertTransition('non-INVITE server transaction', TRANSITIONS, this.#state, next);
    this.#state = next;
  }
}
