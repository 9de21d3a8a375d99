import { createAck } from '../message/build-request.js';
import { parseMessage } from '../message/parse-message.js';
import { SipRequest, type SipResponse } from '../message/sip-message.js';
import { isStreamProtocol, type Flow } from '../transport/transport.js';
import type { Clock } from '../util/clock.js';
import { transactionTimeout, type TimerConfig } from './timer-config.js';
import { assertTransition, transportError, type ClientTransactionOptions } from './transaction.js';
import { clientKey } from './transaction-key.js';
import { TransactionTimer } from './transaction-timer.js';
import type { ClientTransactionHandler } from './transaction-user.js';
import { WireMessage, type TransactionTransport } from './wire-message.js';

/** RFC 3261 Figure 5, with the RFC 6026 `Accepted` state. */
export const InviteClientState = Object.freeze({
  Calling: 'Calling',
  Proceeding: 'Proceeding',
  Completed: 'Completed',
  Accepted: 'Accepted',
  Terminated: 'Terminated',
} as const);
export type InviteClientState = (typeof InviteClientState)[keyof typeof InviteClientState];

const TRANSITIONS: Readonly<Record<InviteClientState, readonly InviteClientState[]>> =
  Object.freeze({
    Calling: ['Proceeding', 'Completed', 'Accepted', 'Terminated'],
    Proceeding: ['Completed', 'Accepted', 'Terminated'],
    Completed: ['Terminated'],
    Accepted: ['Terminated'],
    Terminated: [],
  });

export class InviteClientTransaction {
  readonly kind = 'invite-client' as const;
  readonly branch: string;
  readonly key: string;
  #state: InviteClientState = 'Calling';
  #reliable: boolean;
  readonly #timers: TimerConfig;
  readonly #handler: ClientTransactionHandler;
  readonly #onTerminated: ((tx: InviteClientTransaction) => void) | undefined;
  readonly #transport: TransactionTransport;
  readonly #wire: WireMessage;
  #ack: WireMessage | undefined;
  /** The request until Accepted over an unreliable transport (see `request`). */
  #request: SipRequest | undefined;
  readonly #clock: Clock;
  // A and B run only until the first response: let go then (a transaction lingers 32 s after)
  #timerA: TransactionTimer | undefined;
  #timerB: TransactionTimer | undefined;
  // made when first armed: a transaction ends in Completed (D) or Accepted (M), not both
  #timerD: TransactionTimer | undefined;
  #timerM: TransactionTimer | undefined;

  constructor(options: ClientTransactionOptions) {
    this.#request = options.request;
    this.branch = options.request.topVia?.branch ?? '';
    this.key = clientKey(this.branch, 'INVITE');
    this.#reliable = isStreamProtocol(options.target.protocol);
    this.#timers = options.timers;
    this.#handler = options.handler;
    this.#onTerminated = options.onTerminated;
    this.#transport = options.transport;
    const clock: Clock = options.clock;
    this.#clock = clock;
    this.#timerA = new TransactionTimer(clock, () => this.#onTimerA(), { afterIo: true });
    this.#timerB = new TransactionTimer(clock, () => this.#onTimerB());
    this.#wire = new WireMessage(options.transport, options.request, options.target, this);
    // Accepted keeps the bytes sent (below): take them from the transport, not a new serialisation.
    if (!this.#reliable) this.#wire.keepSentBytes();
  }

  get state(): InviteClientState {
    return this.#state;
  }

  /**
   * The request. In Accepted over an unreliable transport (64*T1 of waiting, where the request is
   * never sent again) only its bytes are kept: this then parses them again (an equal request, as
   * sent, not the object passed in).
   */
  get request(): SipRequest {
    if (this.#request !== undefined) return this.#request;
    const bytes = this.#wire.bytes();
    const parsed = bytes === undefined ? undefined : parseMessage(bytes);
    this.#request =
      parsed?.ok === true && parsed.message.kind === 'request'
        ? parsed.message
        : new SipRequest('INVITE', '');
    return this.#request;
  }

  get reliable(): boolean {
    return this.#reliable;
  }

  /** The ACK this transaction generated for a non-2xx final response, once sent. */
  get ack(): SipRequest | undefined {
    return this.#ack?.message as SipRequest | undefined;
  }

  /** Sends the INVITE and starts Timers A and B (RFC 3261 §17.1.1.2). */
  start(): void {
    this.#wire.send();
    // RFC 3261 §17.1.1.2: Timer A only for unreliable transports.
    if (!this.#reliable) this.#timerA?.start(this.#timers.T1);
    this.#timerB?.start(transactionTimeout(this.#timers));
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.#state) {
      case 'Calling':
      case 'Proceeding':
        if (status < 200) return this.#onProvisional(response);
        if (status < 300) return this.#onSuccess(response);
        return this.#onFailure(response);
      case 'Completed':
        // RFC 3261 §17.1.1.2: retransmitted final → ACK again, not passed to the TU.
        if (status >= 300) this.#ack?.resend();
        return;
      case 'Accepted':
        // RFC 6026 §7.2: 2xx retransmissions (and other forks' 2xx) go to the TU.
        if (status >= 200 && status < 300) this.#handler.onResponse(response, this);
        return;
      case 'Terminated':
        return;
    }
  }

  /** RFC 3261 §17.1.4: a transport failure in Calling or Completed terminates and informs the TU. */
  receiveTransportError(cause: unknown): void {
    if (this.#state !== 'Calling' && this.#state !== 'Completed') return;
    this.#terminate();
    this.#handler.onTransportError(transportError(cause), this);
  }

  dispose(): void {
    if (this.#state === 'Terminated') return;
    this.#terminate();
  }

  #onProvisional(response: SipResponse): void {
    if (this.#state === 'Calling') {
      // RFC 3261 §17.1.1.2: in Proceeding the request is no longer retransmitted; Timer B is Calling-only.
      this.#stopAB();
      this.#transition('Proceeding');
    }
    this.#handler.onResponse(response, this);
  }

  #onSuccess(response: SipResponse): void {
    this.#stopAB();
    // RFC 6026 §7.2: 2xx moves to Accepted, Timer M = 64*T1.
    this.#transition('Accepted');
    // Accepted only passes 2xx up: the request is never sent again, keep its bytes alone.
    if (!this.#reliable) {
      this.#wire.keepBytesOnly();
      if (this.#wire.message === undefined) this.#request = undefined;
    }
    this.#timerM ??= new TransactionTimer(this.#clock, () => this.#onTimerM());
    this.#timerM.start(transactionTimeout(this.#timers));
    this.#handler.onResponse(response, this);
  }

  #onFailure(response: SipResponse): void {
    this.#stopAB();
    this.#transition('Completed');
    // RFC 3261 §17.1.1.3: the transaction builds the ACK for a non-2xx final, same target as the INVITE.
    this.#ack = new WireMessage(
      this.#transport,
      createAck(this.request, response),
      this.#wire.target,
      { receiveTransportError: (e) => this.receiveTransportError(e) },
    );
    this.#ack.send();
    this.#handler.onResponse(response, this);
    if (this.#disposedDuringCallback()) return;
    // RFC 3261 §17.1.1.2: Timer D ≥ 32 s unreliable, 0 reliable.
    if (this.#reliable) this.#onTimerD();
    else {
      this.#timerD ??= new TransactionTimer(this.#clock, () => this.#onTimerD());
      this.#timerD.start(this.#timers.timerD);
    }
  }

  #onTimerA(): void {
    if (this.#state !== 'Calling') return;
    // RFC 3261 §17.1.1.2: retransmit and double Timer A (no T2 cap for INVITE).
    this.#wire.resend();
    const a = this.#timerA;
    a?.start(a.interval * 2);
  }

  #onTimerB(): void {
    if (this.#state !== 'Calling') return;
    // RFC 3261 §17.1.1.2: Timer B fires in Calling → Terminated, TU told of the timeout.
    this.#terminate();
    this.#handler.onTimeout(this);
  }

  #onTimerD(): void {
    if (this.#state === 'Completed') this.#terminate();
  }

  #onTimerM(): void {
    // RFC 6026 §7.2: Timer M fires in Accepted → Terminated.
    if (this.#state === 'Accepted') this.#terminate();
  }

  /** @internal WireOwner: the request's first send went out over `flow`. */
  wireFlow(flow: Flow): void {
    // RFC 3261 §18.1.1: the transport may have moved a large UDP request to TCP; stop retransmitting.
    if (!this.#reliable && isStreamProtocol(flow.protocol)) {
      this.#reliable = true;
      this.#timerA?.stop();
    }
  }

  /** The TU may dispose the transaction from inside `onResponse`. */
  #disposedDuringCallback(): boolean {
    return this.#state === 'Terminated';
  }

  #stopAB(): void {
    this.#timerA?.stop();
    this.#timerB?.stop();
    this.#timerA = this.#timerB = undefined;
  }

  #terminate(): void {
    this.#stopAB();
    this.#timerD?.stop();
    this.#timerM?.stop();
    this.#timerD = this.#timerM = undefined;
    this.#transition('Terminated');
    this.#onTerminated?.(this);
  }

  #transition(next: InviteClientState): void {
    assertTransition('INVITE client transaction', TRANSITIONS, this.#state, next);
    this.#state = next;
  }
}
