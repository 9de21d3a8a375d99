import type { SipResponse } from '../message/sip-message.js';
import type { IncomingMessage } from '../transport/transport.js';
import type { ClientTransaction, ServerTransaction } from './transaction.js';
import type { TransactionError } from './transaction-error.js';

/** The transaction user (UA core or proxy core) above the transaction layer. */
export interface TransactionUser {
  /** A new request created a server transaction (RFC 3261 §17.2). CANCEL gets its own transaction. */
  onRequest(tx: ServerTransaction, incoming: IncomingMessage): void;
  /**
   * An ACK that belongs to no transaction: the ACK for a 2xx (RFC 3261 §17.1.1.3, §13.3.1.4), also
   * when it matches an INVITE server transaction in Accepted (RFC 6026 §8.7 "passed to the TU").
   */
  onStrayAck(incoming: IncomingMessage): void;
  /** A response that matches no client transaction (RFC 3261 §18.1.2, RFC 6026 §8.4). */
  onStrayResponse(incoming: IncomingMessage): void;
  /** A server transaction failed: Timer H (no ACK) or a transport error (RFC 3261 §17.2.1, §17.2.4). */
  onServerTransactionError?(error: TransactionError, tx: ServerTransaction): void;
}

/** Receives what happens to one client transaction. */
export interface ClientTransactionHandler {
  /** Every response the machine passes up (RFC 6026: 2xx retransmissions in Accepted too). */
  onResponse(response: SipResponse, tx: ClientTransaction): void;
  /** Timer B or F fired (RFC 3261 §17.1.1.2, §17.1.2.2); reported with code SIP_ERR_TIMEOUT. */
  onTimeout(tx: ClientTransaction): void;
  /** The transport failed to send (RFC 3261 §17.1.4); code SIP_ERR_TRANSPORT. */
  onTransportError(error: TransactionError, tx: ClientTransaction): void;
}
