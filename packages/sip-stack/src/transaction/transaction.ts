import type { CompletedResponses } from './completed-responses.js';
import type { SipRequest } from '../message/sip-message.js';
import type { Clock } from '../util/clock.js';
import type { DeadlineQueue, Expirable } from './deadline-queue.js';
import type { Flow, Target } from '../transport/transport.js';
import type { InviteClientTransaction } from './invite-client-transaction.js';
import type { InviteServerTransaction } from './invite-server-transaction.js';
import type { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import type { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import type { TimerConfig } from './timer-config.js';
import { TransactionError, TransactionErrorCode } from './transaction-error.js';
import type { ClientTransactionHandler } from './transaction-user.js';
import type { TransactionTransport } from './wire-message.js';

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;
export type Transaction = ClientTransaction | ServerTransaction;

export interface ClientTransactionOptions {
  request: SipRequest;
  target: Target;
  transport: TransactionTransport;
  handler: ClientTransactionHandler;
  clock: Clock;
  timers: TimerConfig;
  /** Called once when the machine reaches Terminated (the layer drops it from its map). */
  onTerminated?: (tx: ClientTransaction) => void;
}

export interface ServerTransactionHooks {
  onTerminated(tx: ServerTransaction): void;
  onError(error: TransactionError, tx: ServerTransaction): void;
  /** The transaction's final is in `ServerTransactionEnv.completed`: it leaves the table. */
  onStored?(tx: ServerTransaction): void;
}

export interface ServerTransactionOptions {
  request: SipRequest;
  /** Flow the request arrived on. */
  flow: Flow;
  /** Where responses go (RFC 3261 §18.2.2); see `responseTarget`. */
  target: Target;
  transport: TransactionTransport;
  clock: Clock;
  timers: TimerConfig;
  hooks?: Partial<ServerTransactionHooks>;
  /** The key the layer files the transaction under (RFC 3261 §17.2.3). */
  key?: string;
  /**
   * Shared Timer J of the layer's non-INVITE server transactions (one clock timer for all);
   * without it the transaction arms its own.
   */
  timerJ?: DeadlineQueue<Expirable>;
  /**
   * Answer a 401/407 challenge as a stateless UAS (RFC 3261 §8.2.7): the transaction ends as the
   * challenge is sent, and a retransmitted request is challenged again. Default false. An INVITE
   * transaction does so over UDP only, and only with `completed`: its challenge waits there, to be
   * sent again for a retransmitted INVITE and to absorb the ACK.
   */
  statelessChallenge?: boolean;
  /** The layer's store of completed responses (see `ServerTransactionEnv.completed`). */
  completed?: CompletedResponses | undefined;
}

/** What every server transaction of a layer shares: one object, not one copy per transaction. */
export interface ServerTransactionEnv {
  readonly transport: TransactionTransport;
  readonly clock: Clock;
  readonly timers: TimerConfig;
  readonly hooks: Partial<ServerTransactionHooks>;
  /** See `ServerTransactionOptions.timerJ`. */
  readonly timerJ: DeadlineQueue<Expirable> | undefined;
  /** Methods whose 401/407 go out statelessly (see `ServerTransactionOptions.statelessChallenge`). */
  readonly statelessChallenges: readonly string[];
  /** Where a non-INVITE transaction completed over UDP leaves its final (off the JS heap). */
  readonly completed?: CompletedResponses | undefined;
}

/** What a transaction layer gives each new server transaction besides its shared env. */
export interface ServerTransactionStart {
  request: SipRequest;
  flow: Flow;
  target: Target;
  key: string;
}

/** The env of a transaction made from `ServerTransactionOptions` alone (no layer). */
export function serverEnv(options: ServerTransactionOptions): ServerTransactionEnv {
  return {
    transport: options.transport,
    clock: options.clock,
    timers: options.timers,
    hooks: options.hooks ?? {},
    timerJ: options.timerJ,
    statelessChallenges: options.statelessChallenge === true ? [options.request.method] : [],
  };
}

/** Throws when `table` does not allow `from → to`: an illegal move is a bug, never peer input. */
export function assertTransition<S extends string>(
  machine: string,
  table: Readonly<Record<S, readonly S[]>>,
  from: S,
  to: S,
): void {
  if (!table[from].includes(to)) {
    throw new TransactionError(
      TransactionErrorCode.State,
      `${machine}: illegal transition ${from} -> ${to}`,
    );
  }
}

export function transportError(cause: unknown): TransactionError {
  const text = cause instanceof Error ? cause.message : String(cause);
  return new TransactionError(TransactionErrorCode.Transport, `transport failed: ${text}`, {
    cause,
  });
}

export function timeoutError(timer: string): TransactionError {
  return new TransactionError(TransactionErrorCode.Timeout, `Timer ${timer} fired`);
}
