import { createRequest } from '../message/build-request.js';
import { generateBranch } from '../message/ids.js';
import { createNameAddr, formatNameAddr, type NameAddr } from '../message/name-addr.js';
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import { DialogError, DialogErrorCode } from './dialog-error.js';
import { dialogKey, type DialogId } from './dialog-id.js';
import { routeRequest, type RequestRouting } from './route-set.js';

export const DialogState = Object.freeze({
  Early: 'Early',
  Confirmed: 'Confirmed',
  Terminated: 'Terminated',
} as const);
export type DialogState = (typeof DialogState)[keyof typeof DialogState];

/** Which side created the dialog: we sent the request (uac) or received it (uas). */
export type DialogRole = 'uac' | 'uas';

const TRANSITIONS: Readonly<Record<DialogState, readonly DialogState[]>> = Object.freeze({
  Early: ['Confirmed', 'Terminated'],
  Confirmed: ['Terminated'],
  Terminated: [],
});

/** Methods whose 2xx refresh the remote target (RFC 3261 §12.2, RFC 3311, RFC 6665, RFC 3515). */
export const TARGET_REFRESH_METHODS: ReadonlySet<string> = new Set([
  'INVITE',
  'UPDATE',
  'SUBSCRIBE',
  'NOTIFY',
  'REFER',
]);

export type RemoteCSeqCheck = { ok: true } | { ok: false; status: 500; reason: string };

/** Everything a dialog holds (RFC 3261 §12). */
export interface DialogInit {
  role: DialogRole;
  state: 'Early' | 'Confirmed';
  id: DialogId;
  /** Our From/To name-addr (without tag) and the peer's. */
  local: NameAddr;
  remote: NameAddr;
  remoteTarget: string;
  /** Route set, in the order requests use it. */
  routeSet: readonly NameAddr[];
  localSeq: number | undefined;
  remoteSeq: number | undefined;
  secure: boolean;
  /** Our Contact URI, written into target-refresh requests. */
  localTarget: string | undefined;
}

export interface InDialogRequestOptions {
  headers?: Record<string, string | readonly string[]>;
  body?: Buffer | string;
  contentType?: string;
  /** Via values; default one placeholder Via with a fresh branch (the transport fills sent-by). */
  via?: readonly string[];
  /** Contact for this request; default the dialog's local target on target-refresh methods. */
  contact?: string;
  maxForwards?: number;
}

/** Both sides' state of one dialog: ids, CSeq, route set, remote target (RFC 3261 §12). */
export class Dialog {
  readonly role: DialogRole;
  readonly id: DialogId;
  readonly key: string;
  readonly secure: boolean;
  #state: DialogState;
  #local: NameAddr;
  #remote: NameAddr;
  #remoteTarget: string;
  #routeSet: readonly NameAddr[];
  #localSeq: number | undefined;
  #remoteSeq: number | undefined;
  #localTarget: string | undefined;

  constructor(init: DialogInit) {
    this.role = init.role;
    this.id = init.id;
    this.key = dialogKey(init.id);
    this.secure = init.secure;
    this.#state = init.state;
    this.#local = init.local;
    this.#remote = init.remote;
    this.#remoteTarget = init.remoteTarget;
    this.#routeSet = init.routeSet;
    this.#localSeq = init.localSeq;
    this.#remoteSeq = init.remoteSeq;
    this.#localTarget = init.localTarget;
  }

  get state(): DialogState {
    return this.#state;
  }
  get remoteTarget(): string {
    return this.#remoteTarget;
  }
  get routeSet(): readonly NameAddr[] {
    return this.#routeSet;
  }
  get localSeq(): number | undefined {
    return this.#localSeq;
  }
  get remoteSeq(): number | undefined {
    return this.#remoteSeq;
  }
  get localUri(): string {
    return this.#local.uri;
  }
  get remoteUri(): string {
    return this.#remote.uri;
  }
  get localTarget(): string | undefined {
    return this.#localTarget;
  }
  set localTarget(uri: string | undefined) {
    this.#localTarget = uri;
  }

  /**
   * UAC: a later response to the dialog-creating request (same remote tag). A 2xx confirms an early
   * dialog and recomputes its route set and remote target (RFC 3261 §13.2.2.4, §12.1.2); a 1xx
   * updates the early dialog's remote target when it has a Contact.
   */
  receiveResponse(response: SipResponse): void {
    if (this.#state !== 'Early' || this.role !== 'uac') return;
    const contact = response.contacts[0];
    if (contact !== undefined && !contact.star) this.#remoteTarget = contact.uri;
    if (response.status >= 200 && response.status < 300) {
      // RFC 3261 §12.1.2: route set = Record-Route of the response, reversed.
      this.#routeSet = [...response.recordRoutes].reverse();
      this.#transition('Confirmed');
    }
  }

  /** RFC 3261 §12.2.2: a request with a CSeq lower than the remote sequence number gets a 500. */
  validateRemoteCSeq(request: SipRequest): RemoteCSeqCheck {
    // ACK and CANCEL carry the CSeq number of the request they belong to.
    if (request.method === 'ACK' || request.method === 'CANCEL') return { ok: true };
    const seq = request.cseq.seq;
    if (this.#remoteSeq !== undefined && seq < this.#remoteSeq) {
      return { ok: false, status: 500, reason: `CSeq ${seq} lower than ${this.#remoteSeq}` };
    }
    return { ok: true };
  }

  /** Validates (§12.2.2) and, when in order, records the request's CSeq as the remote sequence number. */
  receiveRequest(request: SipRequest): RemoteCSeqCheck {
    const check = this.validateRemoteCSeq(request);
    if (check.ok && request.method !== 'ACK' && request.method !== 'CANCEL')
      this.#remoteSeq = request.cseq.seq;
    return check;
  }

  /**
   * RFC 3261 §12.2.1.2 / §12.2.2 (RFC 6141): after a 2xx to a target-refresh request the remote target
   * becomes the Contact of the peer's message: the response when we sent the request, else the
   * request. The route set is not changed. Returns true when the target changed.
   */
  refreshTarget(request: SipRequest, response: SipResponse): boolean {
    if (
      !TARGET_REFRESH_METHODS.has(request.method) ||
      response.status < 200 ||
      response.status >= 300
    )
      return false;
    const sentByUs = request.fromTag === this.id.localTag;
    const contact = (sentByUs ? response : request).contacts[0];
    if (contact === undefined || contact.star || contact.uri === this.#remoteTarget) return false;
    this.#remoteTarget = contact.uri;
    return true;
  }

  /** RFC 3261 §12.2.1.1: Request-URI and Route for the next request of this dialog. */
  routing(): RequestRouting {
    return routeRequest(this.#remoteTarget, this.#routeSet);
  }

  /** URI of the next hop (first route, else the remote target), for RFC 3263 resolution. */
  nextHopUri(): string {
    return this.#routeSet[0]?.uri ?? this.#remoteTarget;
  }

  /** A new request inside the dialog (RFC 3261 §12.2.1.1); the local CSeq is incremented. */
  createRequest(method: string, options: InDialogRequestOptions = {}): SipRequest {
    if (method === 'ACK' || method === 'CANCEL') {
      throw new DialogError(
        DialogErrorCode.Request,
        `${method} is not built by createRequest (use createAck / createCancel)`,
      );
    }
    if (this.#state === 'Terminated')
      throw new DialogError(DialogErrorCode.Request, 'dialog is terminated');
    // RFC 3261 §12.2.1.1: local CSeq incremented by one (chosen by us when empty, §8.1.1.5).
    this.#localSeq = (this.#localSeq ?? 0) + 1;
    let contact = options.contact;
    if (
      contact === undefined &&
      TARGET_REFRESH_METHODS.has(method) &&
      this.#localTarget !== undefined
    ) {
      contact = `<${this.#localTarget}>`;
    }
    return this.#build(method, this.#localSeq, options, contact);
  }

  /**
   * RFC 3261 §13.2.2.4: the ACK for a 2xx, built like an in-dialog request with the INVITE's CSeq
   * number and credentials and a new branch.
   */
  createAck(invite: SipRequest, options: InDialogRequestOptions = {}): SipRequest {
    const ack = this.#build('ACK', invite.cseq.seq, options, options.contact);
    for (const name of ['Authorization', 'Proxy-Authorization']) {
      for (const value of invite.headers.getAll(name)) ack.headers.append(name, value);
    }
    return ack;
  }

  terminate(): void {
    if (this.#state !== 'Terminated') this.#transition('Terminated');
  }

  #build(
    method: string,
    seq: number,
    options: InDialogRequestOptions,
    contact: string | undefined,
  ): SipRequest {
    const { uri, route } = this.routing();
    return createRequest({
      method,
      uri,
      from: withTag(this.#local, this.id.localTag),
      to: withTag(this.#remote, this.id.remoteTag),
      callId: this.id.callId,
      cseq: seq,
      via: options.via ?? [`SIP/2.0/UDP 0.0.0.0;branch=${generateBranch()};rport`],
      route,
      ...(contact === undefined ? {} : { contact }),
      ...(options.maxForwards === undefined ? {} : { maxForwards: options.maxForwards }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.body === undefined ? {} : { body: options.body }),
      ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
    });
  }

  #transition(next: DialogState): void {
    if (!TRANSITIONS[this.#state].includes(next)) {
      throw new DialogError(
        DialogErrorCode.State,
        `dialog: illegal transition ${this.#state} -> ${next}`,
      );
    }
    this.#state = next;
  }
}

/** A From/To value with the dialog's tag (RFC 3261 §12.2.1.1); an empty tag (RFC 2543 peer) is left out. */
function withTag(n: NameAddr, tag: string): string {
  const params: [string, string | null][] = [];
  for (const [k, v] of n.params) if (k !== 'tag') params.push([k, v]);
  if (tag.length > 0) params.push(['tag', tag]);
  return formatNameAddr(createNameAddr(n.uri, params, n.displayName));
}
