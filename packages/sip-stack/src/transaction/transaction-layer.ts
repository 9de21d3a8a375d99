import type { SipMessage, SipRequest, SipResponse } from '../message/sip-message.js';
import { settleReport } from '../transport/transport.js';
import type { Flow, IncomingMessage, SendReport, Target } from '../transport/transport.js';
import { PromiseReport } from '../transport/promise-report.js';
import { responseTarget } from '../transport/via-stamping.js';
import { systemClock, type Clock } from '../util/clock.js';
import { InviteClientTransaction } from './invite-client-transaction.js';
import { InviteServerTransaction } from './invite-server-transaction.js';
import { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import { CompletedResponses } from './completed-responses.js';
import { DeadlineQueue, type Expirable } from './deadline-queue.js';
import { resolveTimers, transactionTimeout, type TimerConfig } from './timer-config.js';
import type {
  ClientTransaction,
  ServerTransaction,
  ServerTransactionEnv,
  ServerTransactionHooks,
} from './transaction.js';
import { TransactionError, TransactionErrorCode } from './transaction-error.js';
import { TransactionTable } from './transaction-table.js';
import { clientKey, detachKey, isLegacyKey, ownServerKey, serverKey } from './transaction-key.js';
import type { ClientTransactionHandler, TransactionUser } from './transaction-user.js';
import type { TransactionTransport } from './wire-message.js';

/** Pino-compatible logger subset. */
export interface TransactionLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface TransactionLayerOptions {
  /** The transport layer (or a fake): `send(message, target)`, optionally `sendBuffer(bytes, target)`. */
  transport: TransactionTransport;
  clock?: Clock;
  timers?: Partial<TimerConfig>;
  logger?: TransactionLogger;
  /**
   * Methods whose 401/407 challenges go out as from a stateless UAS (RFC 3261 §8.2.7): no
   * transaction waits out Timer J for them, so a storm of unauthenticated REGISTERs costs a
   * challenge each and no memory; a retransmission gets a fresh challenge. With 'INVITE', a
   * challenge to an INVITE over UDP is not retransmitted (§26.3.2.4) and leaves its bytes in the
   * store of completed responses (see `storeCompleted`) for 64*T1 instead of a transaction
   * waiting for the ACK: a retransmitted INVITE gets it again, the ACK is absorbed. Default
   * ['REGISTER']; [] keeps every challenge in Completed.
   */
  statelessChallenges?: readonly string[];
  /**
   * Non-INVITE server transactions completed over UDP leave their final response in a store
   * outside the JS heap and leave the table (see CompletedResponses); the layer answers their
   * retransmissions from it until Timer J. Default true; false keeps them in the heap.
   */
  storeCompleted?: boolean;
}

export interface TransactionLayerStats {
  clientTransactions: number;
  serverTransactions: number;
  strayResponses: number;
  strayAcks: number;
  retransmittedRequests: number;
}

/**
 * Matches messages from the transport to the four machines (RFC 3261 §17.1.3, §17.2.3), creates
 * server transactions for new requests and hands them to the TU, and runs client transactions
 * for requests the TU sends. Terminated transactions leave the maps at once.
 */
export class TransactionLayer {
  readonly timers: TimerConfig;
  readonly #transport: TransactionTransport;
  readonly #clock: Clock;
  readonly #logger: TransactionLogger | undefined;
  readonly #client = new TransactionTable<ClientTransaction>();
  readonly #server = new TransactionTable<ServerTransaction>();
  #user: TransactionUser | undefined;
  #strayResponses = 0;
  #strayAcks = 0;
  #retransmittedRequests = 0;
  /** Timer J of every non-INVITE server transaction (RFC 3261 §17.2.2: 64*T1 for all). */
  readonly #timerJ: DeadlineQueue<Expirable>;
  readonly #statelessChallenges: readonly string[];
  readonly #statelessInvite: boolean;
  /** Shared by every non-INVITE server transaction of this layer. */
  readonly #serverEnv: ServerTransactionEnv;
  readonly #completed: CompletedResponses | undefined;
  /** Sweeps the store of expired entries (Timer J after the oldest), so idle memory goes back. */
  readonly #sweeper: Expirable = {
    expire: () => {
      const store = this.#completed;
      if (store === undefined) return;
      store.sweep(this.#clock.now());
      if (store.size > 0) this.#timerJ.add(this.#sweeper);
      else this.#sweeping = false;
    },
  };
  #sweeping = false;

  readonly #dropClient = (tx: ClientTransaction): void => {
    this.#client.delete(tx);
  };

  readonly #serverHooks: ServerTransactionHooks = {
    onTerminated: (tx) => {
      this.#server.delete(tx);
    },
    onError: (error, tx) => {
      this.#user?.onServerTransactionError?.(error, tx);
    },
    onStored: (tx) => {
      this.#server.delete(tx);
      if (!this.#sweeping) {
        this.#sweeping = true;
        this.#timerJ.add(this.#sweeper);
      }
    },
  };

  constructor(options: TransactionLayerOptions) {
    this.#transport = options.transport;
    this.#clock = options.clock ?? systemClock;
    this.timers = resolveTimers(options.timers);
    this.#logger = options.logger;
    this.#timerJ = new DeadlineQueue(this.#clock, transactionTimeout(this.timers));
    this.#statelessChallenges = options.statelessChallenges ?? ['REGISTER'];
    this.#statelessInvite = this.#statelessChallenges.includes('INVITE');
    this.#completed = options.storeCompleted === false ? undefined : new CompletedResponses();
    this.#serverEnv = {
      transport: this.#transport,
      clock: this.#clock,
      timers: this.timers,
      hooks: this.#serverHooks,
      timerJ: this.#timerJ,
      statelessChallenges: this.#statelessChallenges,
      completed: this.#completed,
    };
  }

  setUser(user: TransactionUser): void {
    this.#user = user;
  }

  stats(): TransactionLayerStats {
    const stored = this.#completed;
    stored?.sweep(this.#clock.now());
    return {
      clientTransactions: this.#client.size,
      serverTransactions: this.#server.size + (stored?.size ?? 0),
      strayResponses: this.#strayResponses,
      strayAcks: this.#strayAcks,
      retransmittedRequests: this.#retransmittedRequests,
    };
  }

  /** Entry point for everything the transport layer delivers. Never throws on peer input. */
  receive(incoming: IncomingMessage): void {
    const message = incoming.message;
    if (message.kind === 'response') this.#receiveResponse(message, incoming);
    else this.#receiveRequest(message, incoming);
  }

  /**
   * Starts a client transaction for `request` (which carries a top Via with a fresh z9hG4bK branch).
   * Throws SIP_ERR_TX_REQUEST for ACK (never a transaction, §17.1.1.3), a missing branch, or a
   * branch already in use.
   */
  sendRequest(
    request: SipRequest,
    target: Target,
    handler: ClientTransactionHandler,
  ): ClientTransaction {
    const branch = request.topVia?.branch;
    if (request.method === 'ACK')
      throw requestError('ACK is sent without a transaction (RFC 3261 §17.1.1.3)');
    if (branch === undefined || branch.length === 0)
      throw requestError('request has no top Via branch');
    const key = clientKey(branch, request.method);
    if (this.#client.has(key)) throw requestError(`a client transaction for ${key} already exists`);
    const options = {
      request,
      target,
      transport: this.#transport,
      handler,
      clock: this.#clock,
      timers: this.timers,
      onTerminated: this.#dropClient,
    };
    const tx =
      request.method === 'INVITE'
        ? new InviteClientTransaction(options)
        : new NonInviteClientTransaction(options);
    this.#client.set(key, tx);
    tx.start();
    return tx;
  }

  /**
   * Sends without a transaction: the ACK for a 2xx (RFC 3261 §13.2.2.4), or a 2xx / ACK a proxy
   * forwards statelessly (§16.7, §16.11). Transport failures reject the promise.
   */
  sendStateless(message: SipMessage, target: Target): Promise<Flow> {
    const report = new PromiseReport();
    settleReport(this.#transport.send(message, target, report), report);
    return report.promise;
  }

  /** RFC 3261 §9.2: the INVITE server transaction a CANCEL targets (same matching, method INVITE). */
  findInviteServerTransaction(cancel: SipRequest): InviteServerTransaction | undefined {
    const key = serverKey(cancel, 'INVITE');
    if (key === undefined) return undefined;
    // RFC 3261 §9.2: the CANCEL's To tag equals the INVITE's, so the RFC 2543 key matches as is.
    const tx = this.#server.get(key);
    return tx?.kind === 'invite-server' ? tx : undefined;
  }

  /** Server transaction matching `request` (ACK → its INVITE transaction), if any. */
  findServerTransaction(request: SipRequest): ServerTransaction | undefined {
    const key = ownServerKey(request);
    return key === undefined ? undefined : this.#matchServer(key, request);
  }

  /** Client transaction a response belongs to (RFC 3261 §17.1.3), if any. */
  findClientTransaction(response: SipResponse): ClientTransaction | undefined {
    const branch = response.topVia?.branch;
    if (branch === undefined) return undefined;
    return this.#client.get(clientKey(branch, response.cseq.method));
  }

  /** Stops every timer and forgets every transaction (shutdown). */
  dispose(): void {
    for (const tx of this.#client.list()) tx.dispose();
    for (const tx of this.#server.list()) tx.dispose();
    this.#client.clear();
    this.#server.clear();
    this.#timerJ.clear();
    this.#completed?.clear();
    this.#sweeping = false;
  }

  #receiveResponse(response: SipResponse, incoming: IncomingMessage): void {
    const tx = this.findClientTransaction(response);
    if (tx !== undefined) {
      tx.receiveResponse(response);
      return;
    }
    // RFC 3261 §18.1.2 / RFC 6026 §8.4: no match → the TU (a proxy forwards 2xx statelessly).
    this.#strayResponses++;
    this.#user?.onStrayResponse(incoming);
  }

  #receiveRequest(request: SipRequest, incoming: IncomingMessage): void {
    const key = ownServerKey(request);
    if (key === undefined) {
      this.#logger?.debug({ method: request.method }, 'request without Via dropped');
      return;
    }
    const tx = this.#matchServer(key, request);
    if (request.method === 'ACK') {
      // RFC 3261 §17.2.1: ACK for a non-2xx is absorbed; RFC 6026 §7.1: in Accepted it goes to the TU.
      if (tx?.kind === 'invite-server' && !tx.receiveAck()) return;
      // ... and so is the ACK for a challenge kept in the store (see `statelessChallenges`).
      if (tx === undefined && this.#isStored(key)) return;
      // RFC 3261 §17.1.1.3: the ACK for a 2xx is not part of any transaction.
      this.#strayAcks++;
      this.#user?.onStrayAck(incoming);
      return;
    }
    if (tx !== undefined) {
      this.#retransmittedRequests++;
      tx.receiveRequest();
      return;
    }
    if (this.#resendStored(key)) return;
    this.#createServer(key, request, incoming);
  }

  #isStored(key: string): boolean {
    const store = this.#completed;
    return store !== undefined && store.size > 0 && store.has(key, this.#clock.now());
  }

  /** RFC 3261 §17.2.2: a retransmission in Completed gets the final again, from the store. */
  #resendStored(key: string): boolean {
    const store = this.#completed;
    const sendBuffer = this.#transport.sendBuffer;
    if (store === undefined || store.size === 0 || sendBuffer === undefined) return false;
    const stored = store.find(key, this.#clock.now());
    if (stored === undefined) return false;
    this.#retransmittedRequests++;
    settleReport(sendBuffer.call(this.#transport, stored.bytes, stored.target, IGNORED), IGNORED);
    return true;
  }

  #createServer(parsedKey: string, request: SipRequest, incoming: IncomingMessage): void {
    const user = this.#user;
    if (user === undefined) {
      this.#logger?.warn({ method: request.method }, 'no transaction user: request dropped');
      return;
    }
    const key = detachKey(parsedKey);
    const flow = incoming.flow;
    const target = serverResponseTarget(request, flow);
    const tx =
      request.method === 'INVITE'
        ? new InviteServerTransaction({
            request,
            flow,
            target,
            transport: this.#transport,
            clock: this.#clock,
            timers: this.timers,
            hooks: this.#serverHooks,
            key,
            statelessChallenge: this.#statelessInvite,
            completed: this.#completed,
          })
        : new NonInviteServerTransaction({ request, flow, target, key }, this.#serverEnv);
    this.#server.set(key, tx);
    try {
      user.onRequest(tx, incoming);
    } finally {
      // After the TU had the request: a TU that answers at once (a proxy's 100, §16.2) leaves
      // no 100 Trying timer to arm and clear (RFC 3261 §17.2.1).
      tx.start();
    }
  }

  #matchServer(key: string, request: SipRequest): ServerTransaction | undefined {
    const tx = this.#server.get(key);
    if (request.method !== 'ACK' || !isLegacyKey(key)) return tx;
    // RFC 3261 §17.2.3 (RFC 2543 matching): an ACK's To tag is the tag of our response; the INVITE had
    // the same tag (re-INVITE) or none (initial INVITE).
    const legacy = tx ?? this.#server.get(serverKey(request, 'INVITE', '') ?? '');
    if (legacy === undefined) return undefined;
    const toTag =
      legacy.kind === 'invite-server' ? legacy.lastResponseToTag : legacy.lastResponse?.toTag;
    return toTag === request.toTag ? legacy : undefined;
  }
}

/**
 * RFC 3261 §18.2.2 target; RFC 3581 §4: a UDP reply to the source goes out of the receiving
 * socket. A completed transaction keeps its target for 64*T1, so the usual reply to the source
 * is one object literal (no property added later) whose strings are the shared flow's.
 */
function serverResponseTarget(request: SipRequest, flow: Flow): Target {
  const target = responseTarget(request, flow);
  const remote = flow.remote;
  if (
    target.flowId === undefined &&
    flow.flowId !== undefined &&
    target.port === remote.port &&
    target.address === remote.address
  ) {
    const t: Target = {
      protocol: target.protocol,
      address: remote.address,
      port: remote.port,
      flowId: flow.flowId,
    };
    if (target.serverName !== undefined) t.serverName = target.serverName;
    return t;
  }
  return target;
}

/** Resending a stored final: a failure ends nothing (the transaction is gone from the heap). */
const IGNORED: SendReport = {
  sent() {},
  failed() {},
};

function requestError(message: string): TransactionError {
  return new TransactionError(TransactionErrorCode.Request, message);
}
