import type { SipRequest, SipResponse } from '../message/sip-message.js';
import { isStreamProtocol, type Flow } from '../transport/transport.js';
import type { Clock } from '../util/clock.js';
import { transactionTimeout, type TimerConfig } from './timer-config.js';
import { assertTransition, transportError, type ClientTransactionOptions } from './transaction.js';
import { clientKey } from './transaction-key.js';
import { TransactionTimer } from './transaction-timer.js';
import type { ClientTransactionHandler } from './transaction-user.js';
import { WireMessage } from './wire-message.js';

/** RFC 3261 Figure 6. */
export const NonInviteClientState = Object.freeze({
  Trying: 'Trying',
  Proceeding: 'Proceeding',
  Completed: 'Completed',
  Terminated: 'Terminated',
} as const);
export type NonInviteClientState = (typeof NonInviteClientState)[keyof typeof NonInviteClientState];

const TRANSITIONS: Readonly<Record<NonInviteClientState, readonly NonInviteClientState[]>> =
  Object.freeze({
    Trying: ['Proceeding', 'Completed', 'Terminated'],
    Proceeding: ['Completed', 'Terminated'],
    Completed: ['Terminated'],
    Terminated: [],
  });

export class NonInviteClientTransaction {
  readonly kind = 'non-invite-client' as const;
  readonly request: SipRequest;
  readonly branch: string;
  readonly key: string;
  #state: NonInviteClientState = 'Trying';
  #reliable: boolean;
  readonly #timers: TimerConfig;
  readonly #handler: ClientTransactionHandler;
  readonly #onTerminated: ((tx: NonInviteClientTransaction) => void) | undefined;
  readonly #wire: WireMessage;
  readonly #timerE: TransactionTimer;
  readonly #timerF: TransactionTimer;
  readonly #clock: Clock;
  /** Made when first armed (Completed over an unreliable transport). */
  #timerK: TransactionTimer | undefined;

  constructor(options: ClientTransactionOptions) {
    this.request = options.request;
    this.branch = options.request.topVia?.branch ?? '';
    this.key = clientKey(this.branch, options.request.method);
    this.#reliable = isStreamProtocol(options.target.protocol);
    this.#timers = options.timers;
    this.#handler = options.handler;
    this.#onTerminated = options.onTerminated;
    this.#timerE = new TransactionTimer(options.clock, () => this.#onTimerE(), {
      afterIo: true,
    });
    this.#timerF = new TransactionTimer(options.clock, () => this.#onTimerF());
    this.#clock = options.clock;
    this.#wire = new WireMessage(options.transport, options.request, options.target, this);
  }

  get state(): NonInviteClientState {
    return this.#state;
  }

  get reliable(): boolean {
    return this.#reliable;
  }

  /** Sends the request and starts Timers E and F (RFC 3261 §17.1.2.2). */
  start(): void {
    this.#wire.send();
    // RFC 3261 §17.1.2.2: Timer E only for unreliable transports.
    if (!this.#reliable) this.#timerE.start(this.#timers.T1);
    this.#timerF.start(transactionTimeout(this.#timers));
  }

  receiveResponse(response: SipResponse): void {
    if (this.#state !== 'Trying' && this.#state !== 'Proceeding') return; // Completed absorbs (§17.1.2.2)
    if (response.status < 200) {
      // RFC 3261 §17.1.2.2: 1xx in Trying → Proceeding; passed to the TU.
      if (this.#state === 'Trying') this.#transition('Proceeding');
      this.#handler.onResponse(response, this);
      return;
    }
    this.#timerE.stop();
    this.#timerF.stop();
    this.#transition('Completed');
    this.#handler.onResponse(response, this);
    if (this.#disposedDuringCallback()) return;
    // RFC 3261 §17.1.2.2: Timer K = T4 unreliable, 0 reliable.
    if (this.#reliable) this.#onTimerK();
    else {
      this.#timerK ??= new TransactionTimer(this.#clock, () => this.#onTimerK());
      this.#timerK.start(this.#timers.T4);
    }
  }

  /** RFC 3261 §17.1.4 / Figure 6: a transport failure in Trying or Proceeding terminates and informs the TU. */
  receiveTransportError(cause: unknown): void {
    if (this.#state !== 'Trying' && this.#state !== 'Proceeding') return;
    this.#terminate();
    this.#handler.onTransportError(transportError(cause), this);
  }

  dispose(): void {
    if (this.#state === 'Terminated') return;
    this.#terminate();
  }

  #onTimerE(): void {
    if (this.#state === 'Trying') {
      // RFC 3261 §17.1.2.2: in Trying, Timer E doubles up to T2.
      this.#wire.resend();
      this.#timerE.start(Math.min(this.#timerE.interval * 2, this.#timers.T2));
    } else if (this.#state === 'Proceeding') {
      // RFC 3261 §17.1.2.2: in Proceeding, retransmit every T2.
      this.#wire.resend();
      this.#timerE.start(this.#timers.T2);
    }
  }

  #onTimerF(): void {
    if (this.#state !== 'Trying' && this.#state !== 'Proceeding') return;
    // RFC 3261 §17.1.2.2: Timer F → Terminated, TU told of the timeout.
    this.#terminate();
    this.#handler.onTimeout(this);
  }

  #onTimerK(): void {
    if (this.#state === 'Completed') this.#terminate();
  }

  /** @internal WireOwner: the request's first send went out over `flow`. */
  wireFlow(flow: Flow): void {
    // RFC 3261 §18.1.1: a UDP request moved to TCP is not retransmitted.
    if (!this.#reliable && isStreamProtocol(flow.protocol)) {
      this.#reliable = true;
      this.#timerE.stop();
    }
  }

  /** The TU may dispose the transaction from inside `onResponse`. */
  #disposedDuringCallback(): boolean {
    return this.#state === 'Terminated';
  }

  #terminate(): void {
    this.#timerE.stop();
    this.#timerF.stop();
    this.#timerK?.stop();
    this.#transition('Terminated');
    this.#onTerminated?.(this);
  }

  #transition(next: NonInviteClientState): void {
    assertTransition('non-INVITE client transaction', TRANSITIONS, this.#state, next);
    this.#state = next;
  }
}
