/**
 * An INVITE we sent (RFC 3261 §13.2): early dialogs from provisional responses, ACK for the 2xx,
 * CANCEL (§9.1), one answered digest challenge, ACK + BYE for 2xx nobody wants (§13.2.2.4).
 * Await it (it is a PromiseLike) for `{ dialog, response }`; non-2xx finals reject with EndpointError.
 */
import { createUacDialog } from '../dialog/create-dialog.js';
import { incomingResponseDialogId } from '../dialog/dialog-id.js';
import { createCancel } from '../message/build-request.js';
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import type { ClientTransaction } from '../transaction/transaction.js';
import type { ClientTransactionHandler } from '../transaction/transaction-user.js';
import type { Target } from '../transport/transport.js';
import type { TimerHandle } from '../util/clock.js';
import { authorizedRetry, sendClientRequest, sendError } from './client-request.js';
import { DialogSession } from './dialog-session.js';
import type { EndpointContext } from './endpoint-context.js';
import { EndpointError, EndpointErrorCode } from './endpoint-error.js';
import type { InviteOptions } from './endpoint-options.js';
import { wants100rel } from './reliable-provisionals.js';
import { TypedEmitter } from './typed-emitter.js';

export interface InviteResult {
  dialog: DialogSession;
  response: SipResponse;
}

export type OutgoingInviteState = 'calling' | 'proceeding' | 'accepted' | 'failed';

export type OutgoingInviteEvents = {
  /** Each 1xx received. */
  provisional: [response: SipResponse];
  /** A 1xx with a To tag created an early dialog (one per fork). */
  early: [dialog: DialogSession];
};

export class OutgoingInvite
  extends TypedEmitter<OutgoingInviteEvents>
  implements PromiseLike<InviteResult>
{
  readonly #ctx: EndpointContext;
  readonly #options: InviteOptions;
  readonly #early = new Map<string, DialogSession>();
  /** Dialogs whose 2xx we acknowledged (To tags, as dialog keys). */
  readonly #acked = new Set<string>();
  /** RFC 3262 §4: the last RSeq acknowledged per early dialog. */
  readonly #rseq = new Map<string, number>();
  readonly #result: Promise<InviteResult>;
  #resolve!: (r: InviteResult) => void;
  #reject!: (e: EndpointError) => void;
  #request: SipRequest;
  #target: Target | undefined;
  #tx: ClientTransaction | undefined;
  #state: OutgoingInviteState = 'calling';
  #answered: DialogSession | undefined;
  #retried = false;
  #cancelWanted = false;
  #cancelSent = false;
  #timer: TimerHandle | undefined;
  #unregister: (() => void) | undefined;

  constructor(ctx: EndpointContext, request: SipRequest, options: InviteOptions) {
    super();
    this.#ctx = ctx;
    this.#request = request;
    this.#options = options;
    this.#result = new Promise<InviteResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#result.catch(() => undefined); // a caller that only cancels must not see an unhandled rejection
    this.setListenerErrorHandler((err, event) =>
      ctx.logger.error({ err, event, callId: request.callId }, 'invite listener threw'),
    );
  }

  /** The INVITE as last sent (after a digest retry, the authorised one). */
  get request(): SipRequest {
    return this.#request;
  }
  get state(): OutgoingInviteState {
    return this.#state;
  }
  /** Early dialogs still open (one per answering fork). */
  get earlyDialogs(): readonly DialogSession[] {
    return [...this.#early.values()].filter((d) => d.state === 'early');
  }
  /** Settles like the OutgoingInvite itself. */
  get completed(): Promise<InviteResult> {
    return this.#result;
  }

  then<T1 = InviteResult, T2 = never>(
    onfulfilled?: ((value: InviteResult) => T1 | PromiseLike<T1>) | null,
    onrejected?: ((reason: unknown) => T2 | PromiseLike<T2>) | null,
  ): PromiseLike<T1 | T2> {
    return this.#result.then(onfulfilled, onrejected);
  }

  /** Starts the INVITE towards `target` (resolved by the endpoint). */
  start(target: Promise<Target>): void {
    this.#unregister = this.#ctx.onClose(() =>
      this.#fail(sendError(EndpointErrorCode.Closed, 'endpoint closed')),
    );
    const timeout = this.#options.timeoutMs ?? 180_000;
    if (timeout > 0) this.#timer = this.#ctx.clock.setTimeout(() => this.#onTimeout(), timeout);
    target.then(
      (t) => {
        this.#target = t;
        if (this.#state === 'calling' && !this.#cancelWanted) this.#send();
        else if (this.#cancelWanted) this.#fail(this.#cancelled());
      },
      (err: unknown) => this.#fail(asEndpointError(err)),
    );
  }

  /**
   * RFC 3261 §9.1: cancels the INVITE. The CANCEL goes out once a provisional response came (at
   * once if one did); the INVITE then ends with 487 (rejects with SIP_ERR_CANCELLED).
   */
  cancel(): void {
    if (this.#state === 'accepted' || this.#state === 'failed' || this.#cancelWanted) return;
    this.#cancelWanted = true;
    if (this.#tx === undefined) {
      if (this.#target !== undefined) this.#fail(this.#cancelled());
      return; // not sent yet: start() sees the flag
    }
    if (this.#state === 'proceeding') this.#sendCancel();
  }

  #send(): void {
    const target = this.#target;
    if (target === undefined) return;
    try {
      this.#tx = this.#ctx.transactions.sendRequest(this.#request, target, this.#handler());
    } catch (err) {
      this.#fail(sendError(EndpointErrorCode.State, String(err), err));
    }
  }

  #handler(): ClientTransactionHandler {
    return {
      onResponse: (response, tx) => {
        if (tx !== this.#tx) return; // the challenged transaction, already answered
        if (response.status < 200) this.#onProvisional(response);
        else if (response.status < 300) this.#onSuccess(response);
        else this.#onFailure(response);
      },
      onTimeout: (tx) => {
        if (tx === this.#tx)
          this.#fail(sendError(EndpointErrorCode.Timeout, 'INVITE: no response (Timer B)'));
      },
      onTransportError: (err, tx) => {
        if (tx === this.#tx) this.#fail(sendError(EndpointErrorCode.Transport, err.message, err));
      },
    };
  }

  #onProvisional(response: SipResponse): void {
    if (this.#state === 'calling') this.#state = 'proceeding';
    const rseq = this.#reliableSeq(response);
    if (rseq === 'discard') return;
    this.emit('provisional', response);
    this.#options.onProvisional?.(response);
    if (response.status > 100 && response.toTag !== undefined) this.#earlyDialog(response);
    if (rseq !== undefined) this.#sendPrack(response, rseq);
    // RFC 3261 §9.1: CANCEL only after a provisional response arrived.
    if (this.#cancelWanted && !this.#cancelSent) this.#sendCancel();
  }

  /**
   * RFC 3262 §4: the RSeq of a reliable provisional; 'discard' for a retransmission or one out of
   * order; undefined for an unreliable one.
   */
  #reliableSeq(response: SipResponse): number | 'discard' | undefined {
    if (response.status === 100 || response.toTag === undefined) return undefined;
    if (!wants100rel(response.headers.values('Require'))) return undefined;
    const value = response.headers.get('RSeq')?.trim() ?? '';
    if (!/^\d{1,10}$/.test(value)) return undefined;
    const rseq = Number(value);
    const last = this.#rseq.get(idKey(response));
    if (last !== undefined && rseq !== last + 1) return 'discard';
    return rseq;
  }

  #sendPrack(response: SipResponse, rseq: number): void {
    const key = idKey(response);
    const session = this.#early.get(key);
    if (session === undefined || session.state !== 'early') return;
    this.#rseq.set(key, rseq);
    const rack = `${rseq} ${this.#request.cseq.seq} INVITE`;
    session
      .request('PRACK', { headers: { RAck: rack } })
      .catch((err: unknown) =>
        this.#ctx.logger.debug({ err, callId: this.#request.callId }, 'PRACK failed'),
      );
  }

  /** RFC 3261 §12.1.2 / §13.2.2.4: a 1xx with a To tag makes (or updates) an early dialog. */
  #earlyDialog(response: SipResponse): void {
    const key = idKey(response);
    const existing = this.#early.get(key);
    if (existing !== undefined) {
      existing.dialog.receiveResponse(response);
      return;
    }
    if (this.#state !== 'proceeding' || this.#target === undefined) return;
    const created = createUacDialog(this.#request, response, { overTls: this.#overTls() });
    if (!created.ok) return;
    const session = DialogSession.forUac(this.#ctx, created.dialog, this.#target);
    this.#early.set(key, session);
    this.#ctx.addSession(session);
    this.emit('early', session);
  }

  #onSuccess(response: SipResponse): void {
    const key = idKey(response);
    let session = this.#early.get(key);
    if (session !== undefined && this.#acked.has(key)) {
      // RFC 3261 §13.2.2.4: a retransmitted 2xx gets the same ACK again (even after BYE).
      session.acknowledge(this.#request, response);
      return;
    }
    // An early dialog ended when another fork answered: its late 2xx needs a live dialog for ACK + BYE.
    if (session?.state === 'terminated') session = undefined;
    if (session === undefined) session = this.#confirmedDialog(key, response);
    if (session === undefined) return;
    this.#acked.add(key);
    session.acknowledge(this.#request, response);
    if (this.#answered !== undefined || this.#cancelWanted) {
      // RFC 3261 §13.2.2.4 / §9.1: another fork's 2xx, or a 2xx after our CANCEL: ACK, then BYE.
      session.hangup('unwanted').catch(() => undefined);
      if (this.#answered === undefined) this.#fail(this.#cancelled());
      return;
    }
    this.#answered = session;
    this.#state = 'accepted';
    this.#finish();
    for (const other of this.#early.values()) if (other !== session) other.end('early-ended');
    this.#resolve({ dialog: session, response });
  }

  /** RFC 3261 §12.1.2: a dialog straight from a 2xx (no early dialog for that To tag). */
  #confirmedDialog(key: string, response: SipResponse): DialogSession | undefined {
    if (this.#target === undefined) return undefined;
    const created = createUacDialog(this.#request, response, { overTls: this.#overTls() });
    if (!created.ok) {
      this.#ctx.logger.warn({ reason: created.reason }, '2xx to INVITE makes no dialog');
      return undefined;
    }
    const session = DialogSession.forUac(this.#ctx, created.dialog, this.#target);
    this.#early.set(key, session);
    this.#ctx.addSession(session);
    return session;
  }

  #onFailure(response: SipResponse): void {
    if (!this.#retried && !this.#cancelWanted) {
      const retry = authorizedRetry(this.#ctx, this.#request, response, this.#options);
      if (retry !== undefined) {
        this.#retried = true;
        this.#request = retry;
        this.#state = 'calling';
        this.#send();
        return;
      }
    }
    const error =
      this.#cancelWanted && response.status === 487
        ? this.#cancelled(response)
        : new EndpointError(
            EndpointErrorCode.Rejected,
            `INVITE rejected: ${response.status} ${response.reason}`,
            { response },
          );
    this.#fail(error);
  }

  #sendCancel(): void {
    const target = this.#target;
    if (this.#cancelSent || target === undefined) return;
    this.#cancelSent = true;
    const cancel = createCancel(this.#request);
    if (this.#ctx.userAgent !== undefined) cancel.headers.set('User-Agent', this.#ctx.userAgent);
    // The CANCEL's own 200 matters little: the INVITE's 487 (or Timer B) ends the call.
    sendClientRequest(this.#ctx, cancel, target).catch((err: unknown) =>
      this.#ctx.logger.debug({ err, callId: cancel.callId }, 'CANCEL failed'),
    );
  }

  #onTimeout(): void {
    this.#timer = undefined;
    if (this.#state === 'accepted' || this.#state === 'failed') return;
    this.#ctx.logger.info({ callId: this.#request.callId }, 'INVITE timed out: cancelling');
    this.cancel();
  }

  #cancelled(response?: SipResponse): EndpointError {
    return new EndpointError(
      EndpointErrorCode.Cancelled,
      'INVITE cancelled',
      response === undefined ? {} : { response },
    );
  }

  #fail(error: EndpointError): void {
    if (this.#state === 'accepted' || this.#state === 'failed') return;
    this.#state = 'failed';
    this.#finish();
    for (const early of this.#early.values()) if (early.state === 'early') early.end('early-ended');
    this.#reject(error);
  }

  #finish(): void {
    this.#ctx.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#unregister?.();
    this.#unregister = undefined;
  }

  #overTls(): boolean {
    return this.#target?.protocol === 'tls' || this.#target?.protocol === 'wss';
  }
}

function idKey(x: SipResponse | DialogSession): string {
  const id = x instanceof DialogSession ? x.dialog.id : incomingResponseDialogId(x);
  return `${id.callId}\u0000${id.localTag}\u0000${id.remoteTag}`;
}

function asEndpointError(err: unknown): EndpointError {
  return err instanceof EndpointError
    ? err
    : new EndpointError(EndpointErrorCode.NoTarget, String(err), { cause: err });
}
