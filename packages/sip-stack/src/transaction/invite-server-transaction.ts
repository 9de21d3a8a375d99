import { createResponse } from '../message/build-response.js';
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import { isStreamProtocol, type Flow, type Target } from '../transport/transport.js';
import type { Clock } from '../util/clock.js';
import { transactionTimeout, type TimerConfig } from './timer-config.js';
import {
  assertTransition,
  timeoutError,
  transportError,
  type ServerTransactionHooks,
  type ServerTransactionOptions,
} from './transaction.js';
import { TransactionTimer } from './transaction-timer.js';
import type { CompletedResponses } from './completed-responses.js';
import { isLegacyKey } from './transaction-key.js';
import { WireMessage, type TransactionTransport } from './wire-message.js';
import { requestLine, restoreRequest } from './request-summary.js';
import { parseMessage } from '../message/parse-message.js';
import { ownString } from '../util/own-string.js';

/** RFC 3261 Figure 7, with the RFC 6026 `Accepted` state. */
export const InviteServerState = Object.freeze({
  Proceeding: 'Proceeding',
  Completed: 'Completed',
  Confirmed: 'Confirmed',
  Accepted: 'Accepted',
  Terminated: 'Terminated',
} as const);
export type InviteServerState = (typeof InviteServerState)[keyof typeof InviteServerState];

const TRANSITIONS: Readonly<Record<InviteServerState, readonly InviteServerState[]>> =
  Object.freeze({
    Proceeding: ['Completed', 'Accepted', 'Terminated'],
    Completed: ['Confirmed', 'Terminated'],
    Confirmed: ['Terminated'],
    Accepted: ['Terminated'],
    Terminated: [],
  });

/** RFC 3261 §17.2.1: 100 Trying unless the TU answers within 200 ms. */
export const TRYING_DELAY_MS = 200;

export class InviteServerTransaction {
  readonly kind = 'invite-server' as const;
  readonly flow: Flow;
  readonly target: Target;
  /** The key the transaction layer files this transaction under (RFC 3261 §17.2.3). */
  readonly key: string;
  #state: InviteServerState = 'Proceeding';
  readonly #reliable: boolean;
  readonly #timers: TimerConfig;
  readonly #transport: TransactionTransport;
  readonly #hooks: Partial<ServerTransactionHooks>;
  #lastResponse: WireMessage | undefined;
  /** To tag of the last response (RFC 2543 ACK matching), kept when its message is let go. */
  #lastToTag: string | undefined;
  /** The last response, once only its bytes are kept (see `#isLastResponse`). */
  #sentRef: WeakRef<SipResponse> | undefined;
  /** The request until a final response was sent over an unreliable transport (see `request`). */
  #request: SipRequest | undefined;
  /** `METHOD Request-URI` once #request was let go. */
  #requestLine: string | undefined;
  readonly #clock: Clock;
  // Timers are made when first armed: a transaction arms only those of the path it takes.
  #timerTrying: TransactionTimer | undefined;
  #timerG: TransactionTimer | undefined;
  #timerH: TransactionTimer | undefined;
  #timerI: TransactionTimer | undefined;
  #timerL: TransactionTimer | undefined;
  /** Where a challenge sent as from a stateless UAS leaves its bytes (see `respond`). */
  readonly #store: CompletedResponses | undefined;
  /** Set while a challenge goes out: `wireEncoded` offers its bytes to `#store`. */
  #challenging = false;
  /** The challenge's bytes are in `#store` until then (clock ms); nothing else is kept. */
  #storedUntil: number | undefined;

  constructor(options: ServerTransactionOptions) {
    this.#request = options.request;
    this.flow = options.flow;
    this.target = options.target;
    this.key = options.key ?? '';
    this.#reliable = isStreamProtocol(options.flow.protocol);
    this.#timers = options.timers;
    this.#transport = options.transport;
    this.#hooks = options.hooks ?? {};
    this.#clock = options.clock;
    this.#store =
      options.statelessChallenge === true && !this.#reliable && !isLegacyKey(this.key)
        ? options.completed
        : undefined;
  }

  get state(): InviteServerState {
    return this.#state;
  }

  get reliable(): boolean {
    return this.#reliable;
  }

  /**
   * The request. Once a final response went out over an unreliable transport (Completed, or
   * Accepted: up to 64*T1 of waiting) the transaction keeps only its request line and the bytes
   * of the response; this is then a request rebuilt from those (the request line, and Via, From,
   * To, Call-ID, CSeq as the response copied them), not the object received.
   */
  get request(): SipRequest {
    this.#request ??= restoreRequest(this.#requestLine ?? '', this.#lastResponse?.bytes());
    return this.#request;
  }

  /**
   * The last response sent (provisional or final), if any. After a final over an unreliable
   * transport only its bytes are kept: this then parses them again (an equal response, not the
   * object the TU passed).
   */
  get lastResponse(): SipResponse | undefined {
    const wire = this.#lastResponse;
    if (wire === undefined) return undefined;
    const message = wire.message;
    if (message !== undefined) return message as SipResponse;
    const bytes = wire.bytes();
    const parsed = bytes === undefined ? undefined : parseMessage(bytes);
    return parsed?.ok === true && parsed.message.kind === 'response' ? parsed.message : undefined;
  }

  /** To tag of the last response sent (RFC 3261 §17.2.3 matching of RFC 2543 ACKs). */
  get lastResponseToTag(): string | undefined {
    return this.#lastToTag;
  }

  /** Arms the 100 Trying timer (RFC 3261 §17.2.1). */
  start(): void {
    if (this.#state === 'Proceeding' && this.#lastResponse === undefined)
      (this.#timerTrying ??= this.#timer(() => this.#onTimerTrying())).start(TRYING_DELAY_MS);
  }

  /**
   * A response from the TU. Returns false when the machine's state does not take it (e.g. a 2xx after
   * a non-2xx final): the caller then decides (a proxy forwards a late 2xx statelessly, §16.7).
   */
  respond(response: SipResponse): boolean {
    const status = response.status;
    if (this.#state === 'Accepted') {
      // RFC 6026 §7.1: 2xx retransmissions from the TU are sent; the transaction never retransmits 2xx itself.
      if (status < 200 || status >= 300) return false;
      // The same response object again is a retransmission: reuse its bytes.
      if (this.#isLastResponse(response)) this.#lastResponse?.resend();
      else this.#send(response, !this.#reliable);
      return true;
    }
    if (this.#state !== 'Proceeding') return false;
    this.#timerTrying?.stop();
    // (never armed again: not kept for the rest of the transaction)
    this.#timerTrying = undefined;
    // A final over UDP waits 64*T1 (Timer H or L): keep its bytes and the request line only.
    const compact = status >= 200 && !this.#reliable;
    // RFC 3261 §26.3.2.4, §8.2.7: a challenge is not retransmitted and keeps no transaction. Its
    // bytes wait in the layer's store for 64*T1, outside the heap, so that a retransmitted INVITE
    // gets it again and the ACK is absorbed; a flood of INVITEs without credentials keeps no state.
    this.#challenging = this.#store !== undefined && (status === 401 || status === 407);
    this.#send(response, compact);
    this.#challenging = false;
    if (this.#storedUntil !== undefined) {
      this.#lastResponse = undefined;
      this.#transition('Terminated');
      this.#hooks.onStored?.(this);
      return true;
    }
    if (compact) this.#compactRequest();
    if (status < 200) return true;
    if (status < 300) {
      // RFC 6026 §7.1: 2xx from the TU in Proceeding → Accepted, Timer L = 64*T1.
      this.#transition('Accepted');
      (this.#timerL ??= this.#timer(() => this.#onTimerL())).start(
        transactionTimeout(this.#timers),
      );
      return true;
    }
    // RFC 3261 §17.2.1: 300-699 → Completed; Timer G (unreliable only) and Timer H.
    this.#transition('Completed');
    if (!this.#reliable)
      (this.#timerG ??= this.#timer(() => this.#onTimerG(), true)).start(this.#timers.T1);
    (this.#timerH ??= this.#timer(() => this.#onTimerH())).start(transactionTimeout(this.#timers));
    return true;
  }

  /** A retransmission of the INVITE (RFC 3261 §17.2.1). */
  receiveRequest(): void {
    // Proceeding: last provisional again; Completed: final again; Accepted/Confirmed absorb (RFC 6026 §7.1).
    if (this.#state === 'Proceeding' || this.#state === 'Completed') this.#lastResponse?.resend();
  }

  /**
   * An ACK that matched this transaction. Returns true when the ACK must go to the TU
   * (RFC 6026 §7.1: ACK in Accepted is passed to the TU); false when absorbed.
   */
  receiveAck(): boolean {
    if (this.#state === 'Accepted') return true;
    if (this.#state !== 'Completed') return false; // Confirmed absorbs further ACKs (§17.2.1)
    // RFC 3261 §17.2.1: ACK in Completed → Confirmed; Timer I = T4 unreliable, 0 reliable.
    this.#timerG?.stop();
    this.#timerH?.stop();
    this.#timerG = this.#timerH = undefined;
    this.#transition('Confirmed');
    if (this.#reliable) this.#onTimerI();
    else (this.#timerI ??= this.#timer(() => this.#onTimerI())).start(this.#timers.T4);
    return false;
  }

  /** RFC 3261 §17.2.4 / Figure 7: transport failure in Proceeding or Completed → Terminated, TU informed. */
  receiveTransportError(cause: unknown): void {
    const error = transportError(cause);
    if (this.#state === 'Proceeding' || this.#state === 'Completed') {
      this.#terminate();
    } else if (this.#state !== 'Accepted') {
      return;
    }
    // RFC 6026 §7.1 gives Accepted no transport-error exit: the TU (owner of 2xx reliability) is told.
    this.#hooks.onError?.(error, this);
  }

  dispose(): void {
    if (this.#state === 'Terminated') return;
    this.#terminate();
  }

  /**
   * @internal WireOwner: the bytes of a challenge sent as from a stateless UAS (see `respond`),
   * before they go out over UDP; the layer's store takes them when it can.
   */
  wireEncoded(bytes: Buffer, target: Target): boolean {
    const store = this.#store;
    if (!this.#challenging || store === undefined) return false;
    const now = this.#clock.now();
    const until = now + transactionTimeout(this.#timers);
    if (!store.add(this.key, bytes, target, until, now)) return false;
    this.#storedUntil = until;
    return true;
  }

  /** `bytesOnly`: the response is kept as its bytes once sent (WireMessage.keepBytesOnly). */
  #send(response: SipResponse, bytesOnly = false): void {
    const wire = new WireMessage(this.#transport, response, this.target, this);
    this.#lastResponse = wire;
    // (kept up to 64*T1 after the response itself is let go: not a view into its text)
    this.#lastToTag = ownString(response.toTag);
    // Identity of a response kept as bytes only, without keeping it alive (a TU passing it again).
    this.#sentRef = bytesOnly ? new WeakRef(response) : undefined;
    if (bytesOnly) wire.keepBytesOnly();
    wire.send();
  }

  #isLastResponse(response: SipResponse): boolean {
    const wire = this.#lastResponse;
    if (wire === undefined) return false;
    const message = wire.message;
    return message !== undefined ? message === response : this.#sentRef?.deref() === response;
  }

  #compactRequest(): void {
    if (this.#request === undefined) return;
    this.#requestLine = requestLine(this.#request);
    this.#request = undefined;
  }

  /** `afterIo`: a retransmission timer (see TransactionTimerOptions). */
  #timer(fire: () => void, afterIo = false): TransactionTimer {
    return new TransactionTimer(this.#clock, fire, { afterIo });
  }

  #onTimerTrying(): void {
    this.#timerTrying = undefined;
    if (this.#state !== 'Proceeding' || this.#lastResponse !== undefined) return;
    // RFC 3261 §17.2.1: the TU did not answer within 200 ms → 100 Trying.
    this.#send(createResponse(this.request, 100));
  }

  #onTimerG(): void {
    if (this.#state !== 'Completed') return;
    // RFC 3261 §17.2.1: retransmit the final, Timer G = min(2G, T2).
    this.#lastResponse?.resend();
    const g = this.#timerG;
    g?.start(Math.min(g.interval * 2, this.#timers.T2));
  }

  #onTimerH(): void {
    if (this.#state !== 'Completed') return;
    // RFC 3261 §17.2.1: no ACK before Timer H → Terminated, TU informed.
    this.#terminate();
    this.#hooks.onError?.(timeoutError('H'), this);
  }

  #onTimerI(): void {
    if (this.#state === 'Confirmed') this.#terminate();
  }

  #onTimerL(): void {
    // RFC 6026 §7.1: Timer L fires in Accepted → Terminated.
    if (this.#state === 'Accepted') this.#terminate();
  }

  #terminate(): void {
    this.#timerTrying?.stop();
    this.#timerG?.stop();
    this.#timerH?.stop();
    this.#timerI?.stop();
    this.#timerL?.stop();
    this.#timerTrying = this.#timerG = this.#timerH = this.#timerI = this.#timerL = undefined;
    this.#transition('Terminated');
    this.#hooks.onTerminated?.(this);
  }

  #transition(next: InviteServerState): void {
    assertTransition('INVITE server transaction', TRANSITIONS, this.#state, next);
    this.#state = next;
  }
}
