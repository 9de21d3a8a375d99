/** A request the endpoint received, with the ways to answer it (RFC 3261 §8.2, §13.3). */
import { createUasDialog } from '../dialog/create-dialog.js';
import { createResponse } from '../message/build-response.js';
import { generateTag } from '../message/ids.js';
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import type { ServerTransaction } from '../transaction/transaction.js';
import type { Flow } from '../transport/transport.js';
import { DialogSession } from './dialog-session.js';
import type { EndpointContext } from './endpoint-context.js';
import { EndpointError, EndpointErrorCode } from './endpoint-error.js';
import type { AcceptOptions, ProgressOptions, RespondOptions } from './endpoint-options.js';
import { ReliableProvisionals, parseRAck, wants100rel } from './reliable-provisionals.js';
import { TypedEmitter } from './typed-emitter.js';

export type IncomingRequestEvents = {
  /** The peer cancelled this INVITE; it was answered 487 (RFC 3261 §9.2). */
  cancel: [cancel: SipRequest];
  /** RFC 3262: a PRACK acknowledged this reliable provisional response (the PRACK got 200). */
  prack: [response: SipResponse, prack: SipRequest];
};

function stateError(message: string): EndpointError {
  return new EndpointError(EndpointErrorCode.State, message);
}

export class IncomingRequest extends TypedEmitter<IncomingRequestEvents> {
  readonly request: SipRequest;
  /** Where the request came from. */
  readonly flow: Flow;
  readonly transaction: ServerTransaction;
  /** The dialog an in-dialog request belongs to. */
  readonly dialog: DialogSession | undefined;
  readonly #ctx: EndpointContext;
  /** RFC 3261 §8.2.6.2: one To tag for every response of this request. */
  readonly #toTag: string;
  #final: SipResponse | undefined;
  #cancelled = false;
  /** RFC 3262: reliable provisionals and the early dialog they made. */
  #reliable: ReliableProvisionals | undefined;
  #early: DialogSession | undefined;
  /** A 2xx waiting for the PRACK of a reliable provisional with SDP (RFC 3262 §3). */
  #deferred: AcceptOptions | undefined;

  constructor(
    ctx: EndpointContext,
    transaction: ServerTransaction,
    flow: Flow,
    dialog?: DialogSession,
  ) {
    super();
    this.#ctx = ctx;
    this.transaction = transaction;
    this.request = transaction.request;
    this.flow = flow;
    this.dialog = dialog;
    this.#toTag = this.request.toTag ?? generateTag();
    this.setListenerErrorHandler((err, event) =>
      ctx.logger.error({ err, event }, 'incoming request listener threw'),
    );
  }

  get method(): string {
    return this.request.method;
  }

  /** The To tag of every response to this request (RFC 3261 §8.2.6.2). */
  get toTag(): string {
    return this.#toTag;
  }

  /** A final response was sent. */
  get responded(): boolean {
    return this.#final !== undefined;
  }

  get finalResponse(): SipResponse | undefined {
    return this.#final;
  }

  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Builds and sends a response (RFC 3261 §8.2.6); returns it. Throws after a final response. */
  respond(status: number, options: RespondOptions = {}): SipResponse {
    const response = this.#build(status, options);
    this.respondWith(response);
    return response;
  }

  #build(status: number, options: RespondOptions): SipResponse {
    if (!Number.isInteger(status) || status < 100 || status > 699)
      throw new EndpointError(EndpointErrorCode.Argument, `bad status ${status}`);
    if (this.#final !== undefined) throw stateError(`${this.method} was already answered`);
    const headers: Record<string, string | readonly string[]> = { ...options.headers };
    if (this.#ctx.userAgent !== undefined && headers['Server'] === undefined)
      headers['Server'] = this.#ctx.userAgent;
    const createsDialog = this.method === 'INVITE' && status > 100 && status < 300;
    // RFC 3261 §12.1.1 / §13.3.1: a dialog-creating response carries our Contact and the Record-Route.
    if (createsDialog && headers['Contact'] === undefined)
      headers['Contact'] = this.#ctx.contact.header(this.flow.protocol);
    if (status === 405 && headers['Allow'] === undefined) headers['Allow'] = this.#ctx.allow();
    const response = createResponse(this.request, status, options.reason, {
      toTag: this.#toTag,
      headers,
      ...(options.body === undefined ? {} : { body: options.body }),
      ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
      copyRecordRoute: createsDialog && this.dialog === undefined,
    });
    return response;
  }

  /** Same as respond. */
  reply(status: number, options: RespondOptions = {}): SipResponse {
    return this.respond(status, options);
  }

  /** Sends a response built elsewhere for this request (e.g. a DigestServer challenge). */
  respondWith(response: SipResponse): void {
    if (this.#final !== undefined) throw stateError(`${this.method} was already answered`);
    if (response.status >= 200) this.#final = response;
    if (!this.transaction.respond(response)) {
      this.#ctx.logger.debug({ status: response.status }, 'transaction refused the response');
    }
    if (response.status < 200) return;
    if (this.method === 'INVITE') {
      this.#reliable?.stop();
      if (response.status >= 300) this.#early?.end('early-ended');
      this.#ctx.inviteAnswered(this);
      this.dialog?.reinviteAnswered(this, response);
    }
    // RFC 3261 §12.2.2: a 2xx to a target-refresh request updates the remote target.
    if (this.dialog !== undefined && response.status < 300)
      this.dialog.targetRefreshed(this.request, response);
  }

  /**
   * A provisional answer to an INVITE (default 180 Ringing); with `reliable` and a caller that
   * supports 100rel, sent reliably (RFC 3262) in an early dialog.
   */
  progress(status = 180, options: ProgressOptions = {}): SipResponse {
    if (status < 101 || status > 199)
      throw new EndpointError(EndpointErrorCode.Argument, `progress needs 101-199, got ${status}`);
    const { reliable, ...rest } = options;
    const supported = [
      ...this.request.headers.values('Supported'),
      ...this.request.headers.values('Require'),
    ];
    // RFC 3262 §3: reliable only when the INVITE said it supports 100rel.
    if (
      reliable !== true ||
      this.method !== 'INVITE' ||
      this.dialog !== undefined ||
      !wants100rel(supported)
    )
      return this.respond(status, rest);
    const response = this.#build(status, rest);
    if (this.#earlyDialog(response) === undefined) return this.respond(status, rest);
    this.#reliableSender().send(response);
    return response;
  }

  /** The early dialog of reliable provisionals (RFC 3262 §3), made on the first one. */
  #earlyDialog(response: SipResponse): DialogSession | undefined {
    if (this.#early !== undefined) return this.#early;
    const created = createUasDialog(this.request, response, {
      overTls: this.flow.protocol === 'tls' || this.flow.protocol === 'wss',
    });
    if (!created.ok) return undefined;
    const session = DialogSession.forEarlyUas(this.#ctx, created.dialog, this);
    session.setPrackHandler((prack) => this.#onPrack(prack));
    this.#early = session;
    this.#ctx.addSession(session);
    return session;
  }

  #reliableSender(): ReliableProvisionals {
    this.#reliable ??= new ReliableProvisionals(this.#ctx.clock, this.#ctx.timers, {
      send: (r) => {
        if (!this.transaction.respond(r))
          this.#ctx.logger.debug({ status: r.status }, 'reliable 1xx refused');
      },
      timedOut: () => {
        // RFC 3262 §3: no PRACK → the INVITE is rejected with a 5xx.
        if (this.#final === undefined) this.respond(504, { reason: 'No PRACK' });
      },
    });
    return this.#reliable;
  }

  /** RFC 3262 §3: a PRACK matching the outstanding reliable provisional gets 200, others 481. */
  #onPrack(prack: IncomingRequest): void {
    const rack = parseRAck(prack.request.headers.get('RAck'));
    const acked =
      rack === undefined
        ? undefined
        : this.#reliable?.prack(rack.rseq, rack.cseq, rack.method, this.request.cseq.seq);
    if (acked === undefined) {
      prack.respond(481);
      return;
    }
    prack.respond(200);
    this.emit('prack', acked, prack.request);
    const deferred = this.#deferred;
    if (
      deferred !== undefined &&
      this.#reliable?.unacknowledgedWithBody !== true &&
      this.#final === undefined
    ) {
      this.#deferred = undefined;
      this.#confirm(deferred);
    }
    this.#reliable?.next();
  }

  #confirm(options: AcceptOptions): void {
    const response = this.respond(options.status ?? 200, options);
    this.#early?.confirmUas(this, response);
  }

  /** A final non-2xx answer (default 603 Decline). */
  reject(status = 603, options: RespondOptions = {}): SipResponse {
    if (status < 300 || status > 699)
      throw new EndpointError(EndpointErrorCode.Argument, `reject needs 300-699, got ${status}`);
    return this.respond(status, options);
  }

  /**
   * Answers an INVITE with 2xx and returns the dialog: a new one for an initial INVITE, the same
   * one for a re-INVITE. The 2xx is retransmitted until the ACK comes (RFC 3261 §13.3.1.4).
   */
  accept(options: AcceptOptions = {}): DialogSession {
    if (this.method !== 'INVITE') throw stateError(`accept() answers INVITE, not ${this.method}`);
    const status = options.status ?? 200;
    if (status < 200 || status > 299)
      throw new EndpointError(EndpointErrorCode.Argument, `accept needs 2xx, got ${status}`);
    if (this.#final !== undefined) throw stateError('INVITE was already answered');
    if (this.dialog !== undefined) {
      this.respond(status, options);
      return this.dialog;
    }
    if (this.#early !== undefined) {
      // RFC 3262 §3: no 2xx while a reliable provisional with SDP waits for its PRACK.
      if (this.#reliable?.unacknowledgedWithBody === true) this.#deferred = { ...options, status };
      else this.#confirm({ ...options, status });
      return this.#early;
    }
    const response = this.respond(status, options);
    const created = createUasDialog(this.request, response, {
      overTls: this.flow.protocol === 'tls' || this.flow.protocol === 'wss',
    });
    if (!created.ok) {
      // The request passed validation, so this is a peer INVITE without Contact: §8.1.1.8 violation.
      this.#ctx.logger.warn({ reason: created.reason }, 'INVITE answered but no dialog');
      throw stateError(`no dialog: ${created.reason}`);
    }
    const session = DialogSession.forUas(this.#ctx, created.dialog, this, response);
    this.#ctx.addSession(session);
    return session;
  }

  /** Called by the endpoint when a CANCEL matched this INVITE (RFC 3261 §9.2). */
  cancelReceived(cancel: SipRequest): boolean {
    if (this.#final !== undefined) return false;
    this.#cancelled = true;
    // RFC 3261 §9.2: the INVITE that was cancelled is answered 487 Request Terminated.
    this.respond(487);
    this.emit('cancel', cancel);
    return true;
  }
}
