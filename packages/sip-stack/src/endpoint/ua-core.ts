/**
 * The transaction user of an endpoint (RFC 3261 §8.2 UAS behaviour): routes new requests to the
 * application's handlers or to a dialog, answers CANCEL, hands ACKs and stray 2xx to dialogs, and
 * gives the default answers (405, 501, 481, 420, OPTIONS 200).
 */
import { createResponse } from '../message/build-response.js';
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import type { ServerTransaction } from '../transaction/transaction.js';
import type { TransactionError } from '../transaction/transaction-error.js';
import type { TransactionUser } from '../transaction/transaction-user.js';
import type { Flow, IncomingMessage } from '../transport/transport.js';
import type { EndpointContext } from './endpoint-context.js';
import { IncomingRequest } from './incoming-request.js';

export type RequestHandler = (request: IncomingRequest) => void | Promise<void>;

/** Methods this stack knows (RFC 3261 and extensions): without a handler they get 405, others 501. */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'OPTIONS',
  'REGISTER',
  'PRACK',
  'SUBSCRIBE',
  'NOTIFY',
  'PUBLISH',
  'INFO',
  'REFER',
  'MESSAGE',
  'UPDATE',
]);

export interface UaCoreHost {
  handlerFor(method: string): RequestHandler | undefined;
  /** Option tags we support (RFC 3261 §8.2.2.3). */
  readonly supported: ReadonlySet<string>;
  /** A new out-of-dialog request, before its handler runs. */
  announceRequest(incoming: IncomingRequest): void;
  announceCancel(incoming: IncomingRequest, cancel: SipRequest): void;
}

export class UaCore implements TransactionUser {
  readonly #ctx: EndpointContext;
  readonly #host: UaCoreHost;
  /** INVITEs not finally answered yet, for CANCEL (RFC 3261 §9.2). */
  readonly #invites = new Map<ServerTransaction, IncomingRequest>();
  /** Every INVITE server transaction this core served: a late CANCEL of one is still ours. */
  readonly #served = new WeakSet<ServerTransaction>();

  constructor(ctx: EndpointContext, host: UaCoreHost) {
    this.#ctx = ctx;
    this.#host = host;
  }

  onRequest(tx: ServerTransaction, incoming: IncomingMessage): void {
    const request = tx.request;
    if (this.#ctx.closed) {
      tx.respond(createResponse(request, 503));
      return;
    }
    if (request.method === 'CANCEL') {
      this.#onCancel(tx);
      return;
    }
    if (this.#refuseUnsupported(tx)) return;
    if (request.toTag !== undefined) {
      this.#inDialog(tx, incoming.flow);
      return;
    }
    const req = this.#track(new IncomingRequest(this.#ctx, tx, incoming.flow));
    this.#host.announceRequest(req);
    if (req.responded) return;
    this.#dispatch(req);
  }

  /**
   * Takes over a new out-of-dialog request another transaction user received (a proxy handing a
   * call to a B2BUA): it is answered like one of ours, but no handler runs. Undefined when this
   * core answered it itself (closed: 503; an unsupported Require: 420).
   */
  adopt(tx: ServerTransaction, incoming: IncomingMessage): IncomingRequest | undefined {
    const request = tx.request;
    if (this.#ctx.closed) {
      tx.respond(createResponse(request, 503));
      return undefined;
    }
    if (this.#refuseUnsupported(tx)) return undefined;
    return this.#track(new IncomingRequest(this.#ctx, tx, incoming.flow));
  }

  /**
   * Whether a request that reaches a shared transaction layer is ours: a request or ACK inside one
   * of our dialogs (RFC 3261 §12.2.2), or the CANCEL of an INVITE we serve (RFC 3261 §9.2).
   */
  ownsRequest(request: SipRequest): boolean {
    if (request.method === 'CANCEL') {
      const inviteTx = this.#ctx.transactions.findInviteServerTransaction(request);
      return inviteTx !== undefined && this.#served.has(inviteTx);
    }
    return this.#ctx.dialogs.findForRequest(request) !== undefined;
  }

  /** Whether a stray response is ours: a 2xx retransmission of one of our INVITEs (§13.2.2.4). */
  ownsResponse(response: SipResponse): boolean {
    if (response.cseq.method !== 'INVITE' || response.status < 200 || response.status >= 300)
      return false;
    return this.#ctx.dialogs.findForResponse(response) !== undefined;
  }

  onStrayAck(incoming: IncomingMessage): void {
    const ack = incoming.message;
    if (ack.kind !== 'request') return;
    const dialog = this.#ctx.dialogs.findForRequest(ack);
    const session = dialog === undefined ? undefined : this.#ctx.sessionFor(dialog);
    // RFC 3261 §12.2.2: an ACK matching no dialog is discarded.
    session?.handleAck(ack);
  }

  onStrayResponse(incoming: IncomingMessage): void {
    const response = incoming.message;
    if (response.kind !== 'response') return;
    if (response.cseq.method !== 'INVITE' || response.status < 200 || response.status >= 300)
      return;
    const dialog = this.#ctx.dialogs.findForResponse(response);
    const session = dialog === undefined ? undefined : this.#ctx.sessionFor(dialog);
    session?.handleStraySuccess(response);
  }

  onServerTransactionError(error: TransactionError, tx: ServerTransaction): void {
    this.#invites.delete(tx);
    this.#ctx.logger.debug(
      { err: error, method: tx.request.method, callId: tx.request.callId },
      'server transaction failed',
    );
  }

  /** The INVITE got its final response: a CANCEL can no longer change it. */
  inviteAnswered(incoming: IncomingRequest): void {
    this.#invites.delete(incoming.transaction);
  }

  clear(): void {
    this.#invites.clear();
  }

  #track(req: IncomingRequest): IncomingRequest {
    if (req.method === 'INVITE') {
      this.#invites.set(req.transaction, req);
      this.#served.add(req.transaction);
    }
    return req;
  }

  /** RFC 3261 §8.2.2.3: an extension we do not support in Require → 420 with Unsupported. */
  #refuseUnsupported(tx: ServerTransaction): boolean {
    const request = tx.request;
    const unsupported = request.headers
      .values('Require')
      .map((t) => t.trim())
      .filter((t) => t !== '' && !this.#host.supported.has(t.toLowerCase()));
    if (unsupported.length === 0) return false;
    tx.respond(createResponse(request, 420, undefined, { headers: { Unsupported: unsupported } }));
    return true;
  }

  #dispatch(req: IncomingRequest): void {
    const handler = this.#host.handlerFor(req.method);
    if (handler === undefined) {
      this.#defaultAnswer(req);
      return;
    }
    try {
      const result = handler(req);
      if (result instanceof Promise)
        result.catch((err: unknown) => this.#ctx.handlerFailed(req, err));
    } catch (err) {
      this.#ctx.handlerFailed(req, err);
    }
  }

  #defaultAnswer(req: IncomingRequest): void {
    if (req.method === 'OPTIONS') {
      // RFC 3261 §11.2: OPTIONS is answered as an INVITE would be, with Allow, Accept, Supported.
      const supported = [...this.#host.supported].join(', ');
      req.respond(200, {
        headers: {
          Allow: this.#ctx.allow(),
          Accept: 'application/sdp',
          ...(supported === '' ? {} : { Supported: supported }),
        },
      });
      return;
    }
    // RFC 3261 §8.2.1: a known method we do not handle → 405 with Allow; unknown → 501.
    req.respond(KNOWN_METHODS.has(req.method) ? 405 : 501);
  }

  #inDialog(tx: ServerTransaction, flow: Flow): void {
    const request = tx.request;
    const dialog = this.#ctx.dialogs.findForRequest(request);
    const session = dialog === undefined ? undefined : this.#ctx.sessionFor(dialog);
    if (session === undefined) {
      // RFC 3261 §12.2.2: a To tag matching no dialog → 481.
      tx.respond(createResponse(request, 481));
      return;
    }
    const req = this.#track(new IncomingRequest(this.#ctx, tx, flow, session));
    session.handleRequest(req);
  }

  #onCancel(tx: ServerTransaction): void {
    const cancel = tx.request;
    const inviteTx = this.#ctx.transactions.findInviteServerTransaction(cancel);
    const invite = inviteTx === undefined ? undefined : this.#invites.get(inviteTx);
    if (invite === undefined) {
      // RFC 3261 §9.2: no matching transaction → 481 Call/Transaction Does Not Exist.
      tx.respond(createResponse(cancel, 481));
      return;
    }
    // RFC 3261 §9.2: the CANCEL gets 200 with the To tag of the INVITE's responses.
    tx.respond(createResponse(cancel, 200, undefined, { toTag: invite.toTag }));
    if (invite.cancelReceived(cancel)) this.#host.announceCancel(invite, cancel);
  }
}
