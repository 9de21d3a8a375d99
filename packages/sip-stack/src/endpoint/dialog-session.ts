/**
 * One dialog as the application sees it (RFC 3261 §12-§15): in-dialog requests both ways, BYE,
 * re-INVITE, ACK for 2xx and 2xx retransmission until ACK, and state events.
 */
import type { Dialog } from '../dialog/dialog.js';
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import type { Target } from '../transport/transport.js';
import { copyCredentials, sendClientRequest } from './client-request.js';
import type { EndpointContext } from './endpoint-context.js';
import { EndpointError, EndpointErrorCode } from './endpoint-error.js';
import type { DialogRequestOptions, HeaderValues } from './endpoint-options.js';
import type { IncomingRequest } from './incoming-request.js';
import { flowTarget } from './next-hop.js';
import { SuccessRetransmitter } from './success-retransmitter.js';
import { TypedEmitter } from './typed-emitter.js';

export type DialogSessionState = 'early' | 'confirmed' | 'terminated';

/** Why a dialog ended. */
export type TerminationReason =
  | 'local-bye'
  | 'remote-bye'
  /** RFC 3261 §13.3.1.4: our 2xx was never acknowledged; we sent BYE. */
  | 'ack-timeout'
  /** An early dialog whose INVITE ended without a 2xx for it. */
  | 'early-ended'
  /** RFC 3261 §12.2.1.2: an in-dialog request got 481/408 or no answer. */
  | 'request-failed'
  /** A 2xx nobody wanted (another fork already answered, or we had cancelled): ACK + BYE. */
  | 'unwanted'
  | 'closed';

export type DialogSessionEvents = {
  state: [state: DialogSessionState];
  /** The ACK for our 2xx (initial INVITE or re-INVITE). */
  ack: [ack: SipRequest];
  /** RFC 3261 §13.3.1.4: no ACK within 64*T1; BYE follows. */
  'ack-timeout': [];
  /** The peer hung up; the BYE is answered 200 after the listeners ran. */
  bye: [request: IncomingRequest];
  /** Every in-dialog request from the peer (before its handler). */
  request: [request: IncomingRequest];
  /** The peer's Contact changed through a target-refresh request (RFC 3261 §12.2). */
  'target-refresh': [remoteTarget: string];
  terminated: [reason: TerminationReason];
};

export type DialogRequestHandler = (request: IncomingRequest) => void | Promise<void>;

function stateError(message: string): EndpointError {
  return new EndpointError(EndpointErrorCode.State, message);
}

interface SentAck {
  seq: number;
  ack: SipRequest;
  target: Promise<Target>;
}

export class DialogSession extends TypedEmitter<DialogSessionEvents> {
  readonly dialog: Dialog;
  readonly #ctx: EndpointContext;
  /** A stream flow to prefer for requests to the peer (RFC 5626 §5.3, RFC 7118 §5). */
  readonly #flow: Target | undefined;
  readonly #handlers = new Map<string, DialogRequestHandler>();
  #state: DialogSessionState;
  #localBody: Buffer | undefined;
  #localType: string | undefined;
  #remoteBody: Buffer | undefined;
  /** UAS: our 2xx to an INVITE, retransmitted until its ACK. */
  #pending2xx: { seq: number; retransmitter: SuccessRetransmitter } | undefined;
  /** UAC: the ACK of the last 2xx, sent again for retransmissions of that 2xx (§13.2.2.4). */
  #lastAck: SentAck | undefined;
  #inviteOut = false;
  #inviteIn: IncomingRequest | undefined;
  #byeSent = false;
  #prack: ((request: IncomingRequest) => void) | undefined;
  #resolveTerminated!: (reason: TerminationReason) => void;
  /** Settles with the reason once the dialog has ended. */
  readonly terminated: Promise<TerminationReason>;

  private constructor(ctx: EndpointContext, dialog: Dialog, flow: Target | undefined) {
    super();
    this.#ctx = ctx;
    this.dialog = dialog;
    this.#flow = flow;
    this.#state = dialog.state === 'Early' ? 'early' : 'confirmed';
    this.terminated = new Promise((resolve) => (this.#resolveTerminated = resolve));
    this.setListenerErrorHandler((err, event) =>
      ctx.logger.error({ err, event, callId: dialog.id.callId }, 'dialog listener threw'),
    );
  }

  /** UAS: the dialog our 2xx to `incoming` created; retransmits the 2xx until the ACK. */
  static forUas(
    ctx: EndpointContext,
    dialog: Dialog,
    incoming: IncomingRequest,
    response: SipResponse,
  ): DialogSession {
    const session = new DialogSession(ctx, dialog, flowTarget(incoming.flow));
    session.#remember(incoming.request, response, true);
    session.#awaitAck(incoming, response);
    return session;
  }

  /** UAS: the early dialog of a reliable provisional (RFC 3262); `confirmUas` makes it confirmed. */
  static forEarlyUas(
    ctx: EndpointContext,
    dialog: Dialog,
    incoming: IncomingRequest,
  ): DialogSession {
    return new DialogSession(ctx, dialog, flowTarget(incoming.flow));
  }

  /** UAC: a dialog from a response to our INVITE, sent to `target`. */
  static forUac(ctx: EndpointContext, dialog: Dialog, target: Target): DialogSession {
    return new DialogSession(ctx, dialog, target.flowId === undefined ? undefined : target);
  }

  get state(): DialogSessionState {
    return this.#state;
  }
  get role(): 'uac' | 'uas' {
    return this.dialog.role;
  }
  get callId(): string {
    return this.dialog.id.callId;
  }
  /** Our last session description (offer or answer) sent in this dialog. */
  get localBody(): Buffer | undefined {
    return this.#localBody;
  }
  /** The peer's last session description. */
  get remoteBody(): Buffer | undefined {
    return this.#remoteBody;
  }

  /** Handles in-dialog requests of one method; without one: BYE → 200, re-INVITE → 200 with our last SDP, else 405. */
  onRequest(method: string, handler: DialogRequestHandler): this {
    this.#handlers.set(method.toUpperCase(), handler);
    return this;
  }

  /** Sends an in-dialog request (RFC 3261 §12.2.1.1); INVITE is reinvite(), BYE is bye(). */
  async request(method: string, options: DialogRequestOptions = {}): Promise<SipResponse> {
    const m = method.toUpperCase();
    if (m === 'INVITE') return this.reinvite(options);
    if (m === 'BYE') return this.bye(options);
    if (m === 'ACK' || m === 'CANCEL')
      throw new EndpointError(EndpointErrorCode.Argument, `${m} is sent by the endpoint itself`);
    this.#assertUsable();
    return this.#send(m, options);
  }

  /** Ends the dialog with BYE (RFC 3261 §15.1.1); resolves with the BYE's final response. */
  bye(options: DialogRequestOptions = {}): Promise<SipResponse> {
    return this.#hangup('local-bye', options);
  }

  /** Sends a re-INVITE (RFC 3261 §14.1) and the ACK for its 2xx; resolves with the final response. */
  async reinvite(options: DialogRequestOptions = {}): Promise<SipResponse> {
    this.#assertUsable();
    if (this.#state !== 'confirmed') throw stateError('re-INVITE needs a confirmed dialog');
    // RFC 3261 §14.1: no new INVITE while another INVITE transaction is in progress either way.
    if (this.#inviteOut || this.#inviteIn !== undefined || this.#pending2xx !== undefined)
      throw stateError('an INVITE transaction is already in progress in this dialog');
    this.#inviteOut = true;
    try {
      return await this.#send('INVITE', options);
    } finally {
      this.#inviteOut = false;
    }
  }

  // --- called by the endpoint ------------------------------------------------------------------

  /** UAS: our 2xx confirmed this early dialog; retransmits the 2xx until the ACK. */
  confirmUas(incoming: IncomingRequest, response: SipResponse): void {
    if (this.#state !== 'early') return;
    this.#remember(incoming.request, response, true);
    this.#awaitAck(incoming, response);
    this.#setState('confirmed');
  }

  /** UAS: PRACKs (RFC 3262) go to the INVITE whose reliable provisionals made this dialog. */
  setPrackHandler(handler: ((request: IncomingRequest) => void) | undefined): void {
    this.#prack = handler;
  }

  /** An in-dialog request from the peer (not ACK or CANCEL). */
  handleRequest(incoming: IncomingRequest): void {
    if (this.#state === 'terminated') {
      incoming.respond(481);
      return;
    }
    // RFC 3261 §12.2.2: a CSeq lower than the remote sequence number gets 500.
    const check = this.dialog.receiveRequest(incoming.request);
    if (!check.ok) {
      incoming.respond(check.status, { reason: 'Server Internal Error' });
      return;
    }
    this.emit('request', incoming);
    if (incoming.responded) return;
    if (incoming.method === 'PRACK' && this.#prack !== undefined) this.#prack(incoming);
    else if (incoming.method === 'BYE') this.#onBye(incoming);
    else if (incoming.method === 'INVITE') this.#onReinvite(incoming);
    else this.#dispatch(incoming, () => incoming.respond(405));
  }

  /** An ACK (no transaction, RFC 3261 §17.1.1.3) for a 2xx of ours. */
  handleAck(ack: SipRequest): void {
    const pending = this.#pending2xx;
    if (pending === undefined || ack.cseq.seq !== pending.seq) return; // a retransmitted ACK
    this.#pending2xx = undefined;
    pending.retransmitter.ack();
    // RFC 3264 §4: an INVITE without offer gets the answer in the ACK.
    if (ack.body.length > 0) this.#remoteBody = ack.body;
    this.emit('ack', ack);
  }

  /** UAC: a 2xx to our (re-)INVITE, first copy or retransmission: send (or resend) the ACK. */
  acknowledge(invite: SipRequest, response: SipResponse): void {
    const seq = invite.cseq.seq;
    const last = this.#lastAck;
    if (last !== undefined && last.seq === seq) {
      // RFC 3261 §13.2.2.4: a retransmitted 2xx gets the same ACK again.
      void last.target.then(
        (t) => this.#ctx.sendStateless(last.ack, t),
        () => undefined,
      );
      return;
    }
    if (this.dialog.state === 'Early') this.dialog.receiveResponse(response);
    else this.targetRefreshed(invite, response);
    this.#remember(invite, response, false);
    // RFC 3261 §13.2.2.4: the ACK for a 2xx is built by the UA core, with the INVITE's CSeq number.
    const ack = this.dialog.createAck(invite, this.#headers({}));
    const target = this.#target();
    this.#lastAck = { seq, ack, target };
    target.then(
      (t) => this.#ctx.sendStateless(ack, t),
      (err: unknown) => this.#ctx.logger.warn({ err, callId: this.callId }, 'no target for ACK'),
    );
    if (this.#state === 'early') this.#setState('confirmed');
  }

  /** UAC: a 2xx retransmission that outlived its transaction (stray, RFC 6026 §8.4). */
  handleStraySuccess(response: SipResponse): void {
    const last = this.#lastAck;
    if (last === undefined || response.cseq.seq !== last.seq) return;
    void last.target.then(
      (t) => this.#ctx.sendStateless(last.ack, t),
      () => undefined,
    );
  }

  /** UAS: the final response to a re-INVITE of the peer was sent. */
  reinviteAnswered(incoming: IncomingRequest, response: SipResponse): void {
    if (this.#inviteIn === incoming) this.#inviteIn = undefined;
    if (response.status >= 300) return;
    this.#remember(incoming.request, response, true);
    this.#awaitAck(incoming, response);
  }

  /** RFC 3261 §12.2: a 2xx to a target-refresh request (either direction). */
  targetRefreshed(request: SipRequest, response: SipResponse): void {
    if (this.dialog.refreshTarget(request, response))
      this.emit('target-refresh', this.dialog.remoteTarget);
  }

  /** Ends the dialog without signalling (early dialog gone, endpoint closing, unwanted 2xx). */
  end(reason: TerminationReason): void {
    this.#terminate(reason);
  }

  /** Sends BYE for `reason` (also used for unwanted 2xx, RFC 3261 §13.2.2.4). */
  hangup(reason: TerminationReason): Promise<SipResponse> {
    return this.#hangup(reason, {});
  }

  // --- internals -------------------------------------------------------------------------------

  async #hangup(reason: TerminationReason, options: DialogRequestOptions): Promise<SipResponse> {
    this.#assertUsable();
    this.#byeSent = true;
    // RFC 3261 §15: the callee does not send BYE before the ACK came or the 2xx timed out.
    if (this.#pending2xx !== undefined) await this.#pending2xx.retransmitter.settled;
    try {
      return await this.#send('BYE', options);
    } finally {
      this.#terminate(reason);
    }
  }

  async #send(method: string, options: DialogRequestOptions): Promise<SipResponse> {
    const request = this.#build(method, options);
    try {
      const response = await sendClientRequest(this.#ctx, request, await this.#target(), {
        credentials: options.credentials,
        onProvisional: options.onProvisional,
        rebuild: (authorised) => copyCredentials(authorised, this.#build(method, options)),
        ...(method === 'INVITE'
          ? { onSuccess: (invite: SipRequest, r: SipResponse) => this.acknowledge(invite, r) }
          : {}),
      });
      // RFC 3261 §12.2.1.2: 481 or 408 to an in-dialog request ends the dialog.
      if ((response.status === 481 || response.status === 408) && method !== 'BYE')
        this.#terminate('request-failed');
      else if (response.status >= 200 && response.status < 300 && method !== 'INVITE')
        this.targetRefreshed(request, response);
      return response;
    } catch (err) {
      // RFC 3261 §12.2.1.2: no response at all (timeout) ends the dialog too.
      if (
        err instanceof EndpointError &&
        err.code === EndpointErrorCode.Timeout &&
        method !== 'BYE'
      )
        this.#terminate('request-failed');
      throw err;
    }
  }

  #build(method: string, options: DialogRequestOptions): SipRequest {
    const request = this.dialog.createRequest(method, {
      ...this.#headers(options.headers ?? {}),
      ...(options.body === undefined ? {} : { body: options.body }),
      ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
    });
    if (request.contacts.length === 0 && method === 'INVITE') {
      // RFC 3261 §8.1.1.8: an INVITE carries a Contact (when the dialog had no local target).
      request.headers.set('Contact', this.#ctx.contact.header(this.#flow?.protocol ?? 'udp'));
    }
    return request;
  }

  #headers(extra: HeaderValues): { headers: HeaderValues } {
    const ua = this.#ctx.userAgent;
    return {
      headers:
        ua === undefined || extra['User-Agent'] !== undefined
          ? extra
          : { ...extra, 'User-Agent': ua },
    };
  }

  #target(): Promise<Target> {
    return this.#ctx.nextHop.resolve(this.dialog.nextHopUri(), this.#flow);
  }

  #remember(request: SipRequest, response: SipResponse, weAnswered: boolean): void {
    const ours = weAnswered ? response : request;
    const theirs = weAnswered ? request : response;
    if (ours.body.length > 0) {
      this.#localBody = ours.body;
      this.#localType = ours.headers.get('Content-Type');
    }
    if (theirs.body.length > 0) this.#remoteBody = theirs.body;
  }

  /** RFC 3261 §13.3.1.4: retransmit the 2xx until the ACK; give up after 64*T1 and send BYE. */
  #awaitAck(incoming: IncomingRequest, response: SipResponse): void {
    const tx = incoming.transaction;
    const resend = (): void => {
      if (!tx.respond(response)) this.#ctx.sendStateless(response, tx.target);
    };
    const retransmitter = new SuccessRetransmitter(this.#ctx.clock, this.#ctx.timers, resend, () =>
      this.#onAckTimeout(),
    );
    this.#pending2xx?.retransmitter.stop();
    this.#pending2xx = { seq: incoming.request.cseq.seq, retransmitter };
    retransmitter.start();
  }

  #onAckTimeout(): void {
    this.#pending2xx = undefined;
    this.emit('ack-timeout');
    if (this.#state === 'terminated' || this.#byeSent) return;
    this.#hangup('ack-timeout', {}).catch((err: unknown) =>
      this.#ctx.logger.debug({ err, callId: this.callId }, 'BYE after ACK timeout failed'),
    );
  }

  #onBye(incoming: IncomingRequest): void {
    this.#pending2xx?.retransmitter.stop();
    this.#pending2xx = undefined;
    this.emit('bye', incoming);
    if (!incoming.responded) incoming.respond(200);
    this.#terminate('remote-bye');
  }

  #onReinvite(incoming: IncomingRequest): void {
    // RFC 3261 §14.2: our own re-INVITE is pending → 491; theirs still in progress → 500 + Retry-After.
    if (this.#inviteOut) {
      incoming.respond(491);
      return;
    }
    if (this.#inviteIn !== undefined || this.#pending2xx !== undefined) {
      incoming.respond(500, { headers: { 'Retry-After': String(Math.floor(Math.random() * 10)) } });
      return;
    }
    this.#inviteIn = incoming;
    this.#dispatch(incoming, () => {
      // Default: a session refresh; answer with the session description we last gave.
      incoming.accept({
        ...(this.#localBody === undefined ? {} : { body: this.#localBody }),
        ...(this.#localType === undefined ? {} : { contentType: this.#localType }),
      });
    });
  }

  #dispatch(incoming: IncomingRequest, fallback: () => void): void {
    const handler = this.#handlers.get(incoming.method);
    if (handler === undefined) {
      fallback();
      return;
    }
    try {
      const result = handler(incoming);
      if (result instanceof Promise)
        result.catch((err: unknown) => this.#ctx.handlerFailed(incoming, err));
    } catch (err) {
      this.#ctx.handlerFailed(incoming, err);
    }
  }

  #assertUsable(): void {
    if (this.#ctx.closed) throw new EndpointError(EndpointErrorCode.Closed, 'endpoint closed');
    if (this.#state === 'terminated' || this.#byeSent) throw stateError('dialog has ended');
  }

  #setState(next: DialogSessionState): void {
    if (this.#state === next) return;
    this.#state = next;
    this.emit('state', next);
  }

  #terminate(reason: TerminationReason): void {
    if (this.#state === 'terminated') return;
    this.#pending2xx?.retransmitter.stop();
    this.#pending2xx = undefined;
    this.#ctx.removeSession(this);
    this.#setState('terminated');
    this.emit('terminated', reason);
    this.#resolveTerminated(reason);
  }
}
