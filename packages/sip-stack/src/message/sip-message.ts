// SipRequest and SipResponse: start line, headers, body bytes, and lazily parsed routing accessors.

import { SipHeaders } from './sip-headers.js';
import { HeaderId } from './header-names.js';
import { valueEnd, parseDecimal } from './header-values.js';
import { parseVia, type Via } from './via.js';
import {
  parseNameAddr,
  parseContact,
  createNameAddr,
  tagOf,
  type NameAddr,
  type Contact,
} from './name-addr.js';
import { parseUri, type Uri } from './sip-uri.js';
import { parseCSeq, type CSeq } from './cseq.js';
import { Cache, nameAddrList } from './message-state.js';
import { routeUriList } from './route-uris.js';

// (re-exported: the package entry and callers import them from here)
export { parseCSeq, parseCSeqBytes, type CSeq } from './cseq.js';

/** Node's Buffer#latin1Write (undocumented, stable): skips write()'s encoding dispatch. */
interface Latin1Writer {
  latin1Write(s: string, offset: number): number;
}

const EMPTY_BODY = Buffer.alloc(0);

/** Scratch value span for SipHeaders#rawSpan (read immediately). */
const SPAN: [number, number] = [0, 0];

export abstract class SipMessageBase {
  headers: SipHeaders;
  /** The body; undefined while it is still the unread view #src[#bodyFrom, #bodyTo). */
  #body: Buffer | undefined;
  /** The received bytes of a parsed message (EMPTY_BODY otherwise). */
  #src: Buffer;
  #bodyFrom = 0;
  #bodyTo = 0;
  #c: Cache;
  // The received message #src[#wireFrom, #bodyTo) and the state it corresponds to, for verbatim
  // re-serialisation (#wireFrom < 0: none): the headers object (at version 0), the start-line
  // parts (method and URI, or status and reason) and the body as first materialised (undefined
  // while it was never read).
  #wireFrom = -1;
  #wireHeaders: SipHeaders | undefined = undefined;
  #wireK1: string | number = 0;
  #wireK2 = '';
  #wireBody: Buffer | undefined = undefined;

  constructor(headers?: SipHeaders, body?: Buffer) {
    this.headers = headers ?? new SipHeaders();
    this.#body = body ?? EMPTY_BODY;
    this.#src = EMPTY_BODY;
    this.#c = new Cache(this.headers);
  }

  /** Bytes, never decoded (multipart kept intact); a parsed body is a view of the input. */
  get body(): Buffer {
    const b = this.#body;
    if (b !== undefined) return b;
    // the view is made on first read: routing never touches the body
    const view =
      this.#bodyTo > this.#bodyFrom ? this.#src.subarray(this.#bodyFrom, this.#bodyTo) : EMPTY_BODY;
    this.#body = view;
    this.#wireBody = view;
    return view;
  }

  set body(value: Buffer) {
    this.#body = value;
  }

  /** @internal Used by the parser: the body is buf[from, to), materialised on first read. */
  setBodyView(buf: Buffer, from: number, to: number): void {
    this.#body = undefined;
    this.#src = buf;
    this.#bodyFrom = from;
    this.#bodyTo = to;
  }

  abstract readonly kind: 'request' | 'response';
  /** The start line without CRLF. */
  abstract startLine(): string;
  /** Method or status, and URI or reason: what the start line is made of. */
  protected abstract startPart1(): string | number;
  protected abstract startPart2(): string;
  abstract clone(): SipRequest | SipResponse;

  /** The cache, reset when the headers changed. */
  protected cache(): Cache {
    const c = this.#c;
    if (c.h === this.headers && c.v === this.headers.version) return c;
    return (this.#c = new Cache(this.headers));
  }

  /** @internal Seeds the cache with values the parser already computed. */
  seedCache(
    topVia: Via,
    cseq: CSeq | undefined,
    callId: string | undefined,
    maxForwards: number | null | undefined,
  ): void {
    const c = this.cache();
    c.topVia = topVia;
    if (cseq !== undefined) c.cseq = cseq;
    if (callId !== undefined) c.callId = callId;
    if (maxForwards !== undefined) c.maxForwards = maxForwards;
  }

  get via(): readonly Via[] {
    const c = this.cache().rare();
    if (c.via !== undefined) return c.via;
    const out: Via[] = [];
    for (const s of this.headers.valuesOf(HeaderId.via)) {
      const r = parseVia(s);
      if (r.ok) out.push(r.value);
    }
    return (c.via = out);
  }

  get topVia(): Via | undefined {
    const c = this.cache();
    if (c.topVia === undefined) {
      const line = this.headers.firstOf(HeaderId.via);
      const r = line === undefined ? undefined : parseVia(line.slice(0, valueEnd(line, 0)));
      c.topVia = r?.ok === true ? r.value : null;
    }
    return c.topVia ?? undefined;
  }

  /** Replaces the top Via value (e.g. after stamping received/rport), keeping the others. */
  setTopVia(value: string): void {
    this.headers.shiftValue('Via');
    this.headers.prepend('Via', value);
  }

  get callId(): string {
    const c = this.cache();
    return (c.callId ??= (this.headers.firstOf(HeaderId.callId) ?? '').trim());
  }

  set callId(value: string) {
    this.headers.set('Call-ID', value);
  }

  /** { seq: 0, method: '' } when the header is missing or malformed. */
  get cseq(): CSeq {
    const c = this.cache();
    if (c.cseq === undefined) {
      const raw = this.headers.firstOf(HeaderId.cseq);
      c.cseq = (raw === undefined ? undefined : parseCSeq(raw)) ?? { seq: 0, method: '' };
    }
    return c.cseq;
  }

  /** From value; an empty NameAddr (uri '') when missing or malformed. */
  get from(): NameAddr {
    const c = this.cache().rare();
    return (c.from ??= this.#nameAddr(HeaderId.from));
  }

  get to(): NameAddr {
    const c = this.cache().rare();
    return (c.to ??= this.#nameAddr(HeaderId.to));
  }

  #nameAddr(id: HeaderId): NameAddr {
    const raw = this.headers.firstOf(id);
    const r = raw === undefined ? undefined : parseNameAddr(raw);
    return r?.ok === true ? r.value : createNameAddr('');
  }

  get fromTag(): string | undefined {
    const c = this.cache().rare();
    if (c.from !== undefined) return c.from.params.get('tag') ?? undefined;
    return (c.fromTag ??= this.#tag(HeaderId.from)) ?? undefined;
  }

  get toTag(): string | undefined {
    const c = this.cache();
    const to = c.more?.to;
    if (to !== undefined) return to.params.get('tag') ?? undefined;
    return (c.toTag ??= this.#tag(HeaderId.to)) ?? undefined;
  }

  /** The tag of the first From/To line, read in place when it can be; null when none. */
  #tag(id: HeaderId): string | null {
    const h = this.headers;
    const i = h.lineOf(id);
    if (i < 0) return null;
    const src = h.rawSpan(i, SPAN);
    const tag = src !== undefined ? tagOf(src, SPAN[0], SPAN[1]) : tagOf(h.peekAt(i));
    return tag ?? null;
  }

  /** undefined when absent or malformed. */
  get maxForwards(): number | undefined {
    const c = this.cache();
    if (c.maxForwards === undefined) {
      const raw = this.headers.firstOf(HeaderId.maxForwards);
      const n = raw === undefined ? -1 : parseDecimal(raw.trim());
      c.maxForwards = n < 0 || n > 255 ? null : n;
    }
    return c.maxForwards ?? undefined;
  }

  set maxForwards(value: number | undefined) {
    if (value === undefined) this.headers.delete('Max-Forwards');
    else this.headers.set('Max-Forwards', String(value));
  }

  /** Contact values; malformed values are skipped. */
  get contacts(): readonly Contact[] {
    const c = this.cache().rare();
    if (c.contacts !== undefined) return c.contacts;
    const out: Contact[] = [];
    for (const s of this.headers.valuesOf(HeaderId.contact)) {
      const r = parseContact(s);
      if (r.ok) out.push(r.value);
    }
    return (c.contacts = out);
  }

  get routes(): readonly NameAddr[] {
    const c = this.cache().rare();
    return (c.routes ??= nameAddrList(this.headers, HeaderId.route));
  }

  /**
   * The URIs of the Route values in order (RFC 3261 §16.4), parsed in place from the received
   * bytes: what a proxy routes on, without the name-addrs of `routes`. A URI that does not parse
   * is `{ scheme: '', raw }`.
   */
  get routeUris(): readonly Uri[] {
    const c = this.cache();
    return (c.routeUris ??= routeUriList(this.headers));
  }

  get recordRoutes(): readonly NameAddr[] {
    const c = this.cache().rare();
    return (c.recordRoutes ??= nameAddrList(this.headers, HeaderId.recordRoute));
  }

  /** Serialises the message; Content-Length is set to the body length. */
  toBuffer(): Buffer {
    const from = this.#wireFrom;
    if (
      from >= 0 &&
      this.#wireHeaders === this.headers &&
      this.headers.version === 0 &&
      (this.#body === undefined || this.#body === this.#wireBody) &&
      this.#wireK1 === this.startPart1() &&
      this.#wireK2 === this.startPart2()
    ) {
      // unchanged since parsing: the received bytes are the serialisation
      const out = Buffer.allocUnsafe(this.#bodyTo - from);
      this.#src.copy(out, 0, from, this.#bodyTo);
      return out;
    }
    const body = this.body;
    const len = String(body.length);
    if (this.headers.get('Content-Length') !== len) this.headers.set('Content-Length', len);
    const head = this.startLine() + '\r\n' + this.headers.serialize(body.length) + '\r\n';
    const out = Buffer.allocUnsafe(head.length + body.length);
    (out as unknown as Latin1Writer).latin1Write(head, 0);
    if (body.length > 0) body.copy(out, head.length);
    return out;
  }

  /**
   * @internal Used by the parser after setBodyView: remembers that the received bytes from `from`
   * to the end of the body are the serialisation while nothing changes.
   */
  setWire(from: number): void {
    // (version 0: the headers as parsed, which is what toBuffer checks)
    if (this.headers.version !== 0) return;
    this.#wireFrom = from;
    this.#wireHeaders = this.headers;
    this.#wireK1 = this.startPart1();
    this.#wireK2 = this.startPart2();
    this.#wireBody = this.#body;
  }

  /** The message as text (body decoded as UTF-8); for logs and tests. */
  toString(): string {
    return this.toBuffer().toString('utf8');
  }
}

export class SipRequest extends SipMessageBase {
  readonly kind = 'request' as const;
  method: string;
  #uri: string;
  /** #uri parsed, valid while #parsedRaw === #uri. */
  #parsedRaw: string | undefined = undefined;
  #parsedUri: Uri | undefined = undefined;

  constructor(method: string, uri: string, headers?: SipHeaders, body?: Buffer) {
    super(headers, body);
    this.method = method;
    this.#uri = uri;
  }

  /** Raw Request-URI. */
  get uri(): string {
    return this.#uri;
  }

  set uri(value: string) {
    this.#uri = value;
  }

  /** @internal Used by the parser: the Request-URI it already parsed from the bytes. */
  seedRequestUri(uri: Uri): void {
    this.#parsedRaw = this.#uri;
    this.#parsedUri = uri;
  }

  /** Parsed Request-URI; an AbsoluteUri with the raw text when it does not parse. */
  get requestUri(): Uri {
    const p = this.#parsedUri;
    if (p !== undefined && this.#parsedRaw === this.#uri) return p;
    const r = parseUri(this.#uri);
    const uri: Uri = r.ok ? r.uri : { scheme: '', raw: this.#uri };
    this.#parsedRaw = this.#uri;
    this.#parsedUri = uri;
    return uri;
  }

  startLine(): string {
    return this.method + ' ' + this.#uri + ' SIP/2.0';
  }

  protected startPart1(): string {
    return this.method;
  }

  protected startPart2(): string {
    return this.#uri;
  }

  clone(): SipRequest {
    return new SipRequest(this.method, this.#uri, this.headers.clone(), this.body);
  }
}

export class SipResponse extends SipMessageBase {
  readonly kind = 'response' as const;
  status: number;
  reason: string;

  constructor(status: number, reason: string, headers?: SipHeaders, body?: Buffer) {
    super(headers, body);
    this.status = status;
    this.reason = reason;
  }

  startLine(): string {
    return 'SIP/2.0 ' + this.status + ' ' + this.reason;
  }

  protected startPart1(): number {
    return this.status;
  }

  protected startPart2(): string {
    return this.reason;
  }

  clone(): SipResponse {
    return new SipResponse(this.status, this.reason, this.headers.clone(), this.body);
  }
}

export type SipMessage = SipRequest | SipResponse;
