import type { SipRequest, SipResponse } from '../message/sip-message.js';
import { isStreamProtocol, type Flow, type Target } from '../transport/transport.js';
import { transactionTimeout, type TimerConfig } from './timer-config.js';
import {
  assertTransition,
  transportError,
  type ServerTransactionHooks,
  type ServerTransactionOptions,
} from './transaction.js';
import type { Clock } from '../util/clock.js';
import type { DeadlineQueue, Expirable } from './deadline-queue.js';
import { TransactionTimer } from './transaction-timer.js';
import { requestLine, restoreRequest } from './request-summary.js';
import { WireMessage, type TransactionTransport } from './wire-message.js';

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

export class NonInviteServerTransaction {
  readonly kind = 'non-invite-server' as const;
  readonly flow: Flow;
  readonly target: Target;
  /** The key the transaction layer files this transaction under (RFC 3261 §17.2.3). */
  readonly key: string;
  #state: NonInviteServerState = 'Trying';
  readonly #reliable: boolean;
  readonly #timers: TimerConfig;
  readonly #transport: TransactionTransport;
  readonly #hooks: Partial<ServerTransactionHooks>;
  #lastResponse: WireMessage | undefined;
  /** The request until Completed on an unreliable transport, then rebuilt on demand. */
  #request: SipRequest | undefined;
  /** `METHOD Request-URI` once #request was let go. */
  #requestLine: string | undefined;
  readonly #clock: Clock;
  readonly #sharedTimerJ: DeadlineQueue<Expirable> | undefined;
  #timerJ: TransactionTimer | undefined;
  readonly #statelessChallenge: boolean;

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
    this.#sharedTimerJ = options.timerJ;
    this.#statelessChallenge = options.statelessChallenge ?? false;
  }

  get state(): NonInviteServerState {
    return this.#state;
  }

  get reliable(): boolean {
    return this.#reliable;
  }

  /**
   * The request. In Completed over an unreliable transport the transaction keeps only its
   * request line and the bytes of its response: this is then a request rebuilt from those (the
   * request line, and Via, From, To, Call-ID, CSeq as the response copied them), not the object
   * received.
   */
  get request(): SipRequest {
    this.#request ??= restoreRequest(this.#requestLine ?? '', this.#lastResponse?.bytes());
    return this.#request;
  }

  /** The last response sent; undefined in Completed over UDP, where only its bytes are kept. */
  get lastResponse(): SipResponse | undefined {
    return this.#lastResponse?.message as SipResponse | undefined;
  }

  /** Nothing to arm: a non-INVITE server transaction starts in Trying with no timer (Figure 8). */
  start(): void {}

  /** A response from the TU; false when the state does not take it (a final was already sent). */
  respond(response: SipResponse): boolean {
    if (this.#state !== 'Trying' && this.#state !== 'Proceeding') return false;
    this.#lastResponse = new WireMessage(this.#transport, response, this.target, this);
    if (response.status < 200) {
      // RFC 3261 §17.2.2: 1xx from the TU → Proceeding.
      if (this.#state === 'Trying') this.#transition('Proceeding');
      this.#lastResponse.send();
      return true;
    }
    // RFC 3261 §17.2.2: final from the TU → Completed; Timer J = 64*T1 unreliable, 0 reliable.
    this.#transition('Completed');
    this.#lastResponse.send();
    // RFC 3261 §8.2.7: a challenge can be sent statelessly; nothing is kept for retransmissions.
    const stateless =
      this.#statelessChallenge && (response.status === 401 || response.status === 407);
    if (this.#reliable || stateless) {
      this.#onTimerJ();
      return true;
    }
    if (this.#sharedTimerJ !== undefined) this.#sharedTimerJ.add(this);
    else {
      this.#timerJ = new TransactionTimer(this.#clock, () => this.#onTimerJ());
      this.#timerJ.start(transactionTimeout(this.#timers));
    }
    // Completed waits 64*T1 only to absorb retransmissions: keep bytes, not parsed messages.
    this.#lastResponse.keepBytesOnly();
    if (this.#request !== undefined) {
      this.#requestLine = requestLine(this.#request);
      this.#request = undefined;
    }
    return true;
  }

  /** A retransmission of the request (RFC 3261 §17.2.2). */
  receiveRequest(): void {
    // Trying absorbs; Proceeding resends the last provisional; Completed resends the final.
    if (this.#state === 'Proceeding' || this.#state === 'Completed') this.#lastResponse?.resend();
  }

  /** RFC 3261 §17.2.4 / Figure 8: transport failure in Proceeding or Completed → Terminated, TU informed. */
  receiveTransportError(cause: unknown): void {
    if (this.#state !== 'Proceeding' && this.#state !== 'Completed') return;
    this.#terminate();
    this.#hooks.onError?.(transportError(cause), this);
  }

  dispose(): void {
    if (this.#state === 'Terminated') return;
    this.#terminate();
  }

  /** @internal Timer J fired in the layer's shared queue (`ServerTransactionOptions.timerJ`). */
  expire(): void {
    this.#onTimerJ();
  }

  #onTimerJ(): void {
    if (this.#state === 'Completed') this.#terminate();
  }

  #terminate(): void {
    this.#timerJ?.stop();
    this.#transition('Terminated');
    this.#hooks.onTerminated?.(this);
  }

  #transition(next: NonInviteServerState): void {
    assertTransition('non-INVITE server transaction', TRANSITIONS, this.#state, next);
    this.#state = next;
  }
}
