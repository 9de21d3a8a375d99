// SipRequest and SipResponse: start line, headers, body bytes, and lazily parsed routing accessors.

import { SipHeaders } from './sip-headers.js';
import { valueEnd, parseDecimal, isToken } from './header-values.js';
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

export interface CSeq {
  seq: number;
  method: string;
}

/** Parsed routing values, valid while `headers` and its version are unchanged. */
interface Cache {
  h: SipHeaders;
  v: number;
  via?: readonly Via[];
  topVia?: Via | null;
  cseq?: CSeq;
  callId?: string;
  from?: NameAddr;
  to?: NameAddr;
  fromTag?: string | null;
  toTag?: string | null;
  maxForwards?: number | null;
  contacts?: readonly Contact[];
  routes?: readonly NameAddr[];
  recordRoutes?: readonly NameAddr[];
}

/** The received bytes of a parsed message and the state they correspond to. */
interface Wire {
  buf: Buffer;
  from: number;
  end: number;
  headers: SipHeaders;
  version: number;
  body: Buffer;
  /** Start-line parts at parse time: method and URI, or status and reason. */
  k1: string | number;
  k2: string;
}

/** Node's Buffer#latin1Write (undocumented, stable): skips write()'s encoding dispatch. */
interface Latin1Writer {
  latin1Write(s: string, offset: number): number;
}

const EMPTY_BODY = Buffer.alloc(0);

/** Parses a CSeq value "4711 INVITE" (RFC 3261 §20.16); undefined when malformed. */
export function parseCSeq(v: string): CSeq | undefined {
  const n = v.length;
  let i = 0;
  while (i < n && v.charCodeAt(i) <= 32) i++;
  const ds = i;
  let seq = 0;
  while (i < n) {
    const c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    seq = seq * 10 + c;
    i++;
  }
  // RFC 3261 §8.1.1.5: the sequence number MUST be less than 2**31
  if (i === ds || i - ds > 10 || seq > 0x7fffffff) return undefined;
  const ms = i;
  while (i < n && (v.charCodeAt(i) === 32 || v.charCodeAt(i) === 9)) i++;
  if (i === ms) return undefined;
  let me = n;
  while (me > i && v.charCodeAt(me - 1) <= 32) me--;
  const method = v.slice(i, me);
  return me > i && isToken(method) ? { seq, method } : undefined;
}

function nameAddrList(values: readonly string[]): NameAddr[] {
  const out: NameAddr[] = [];
  for (const s of values) {
    const r = parseNameAddr(s);
    if (r.ok) out.push(r.value);
  }
  return out;
}

export abstract class SipMessageBase {
  headers: SipHeaders;
  body: Buffer;
  #c: Cache;
  #wire: Wire | undefined;

  constructor(headers?: SipHeaders, body?: Buffer) {
    this.headers = headers ?? new SipHeaders();
    this.body = body ?? EMPTY_BODY;
    this.#c = { h: this.headers, v: this.headers.version };
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
    return (this.#c = { h: this.headers, v: this.headers.version });
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
    const c = this.cache();
    if (c.via !== undefined) return c.via;
    const out: Via[] = [];
    for (const s of this.headers.values('Via')) {
      const r = parseVia(s);
      if (r.ok) out.push(r.value);
    }
    return (c.via = out);
  }

  get topVia(): Via | undefined {
    const c = this.cache();
    if (c.topVia === undefined) {
      const line = this.headers.get('Via');
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
    return (c.callId ??= (this.headers.get('Call-ID') ?? '').trim());
  }

  set callId(value: string) {
    this.headers.set('Call-ID', value);
  }

  /** { seq: 0, method: '' } when the header is missing or malformed. */
  get cseq(): CSeq {
    const c = this.cache();
    if (c.cseq === undefined) {
      const raw = this.headers.get('CSeq');
      c.cseq = (raw === undefined ? undefined : parseCSeq(raw)) ?? { seq: 0, method: '' };
    }
    return c.cseq;
  }

  /** From value; an empty NameAddr (uri '') when missing or malformed. */
  get from(): NameAddr {
    const c = this.cache();
    return (c.from ??= this.#nameAddr('From'));
  }

  get to(): NameAddr {
    const c = this.cache();
    return (c.to ??= this.#nameAddr('To'));
  }

  #nameAddr(name: string): NameAddr {
    const raw = this.headers.get(name);
    const r = raw === undefined ? undefined : parseNameAddr(raw);
    return r?.ok === true ? r.value : createNameAddr('');
  }

  get fromTag(): string | undefined {
    const c = this.cache();
    if (c.from !== undefined) return c.from.params.get('tag') ?? undefined;
    return (c.fromTag ??= tagOf(this.headers.get('From') ?? '') ?? null) ?? undefined;
  }

  get toTag(): string | undefined {
    const c = this.cache();
    if (c.to !== undefined) return c.to.params.get('tag') ?? undefined;
    return (c.toTag ??= tagOf(this.headers.get('To') ?? '') ?? null) ?? undefined;
  }

  /** undefined when absent or malformed. */
  get maxForwards(): number | undefined {
    const c = this.cache();
    if (c.maxForwards === undefined) {
      const raw = this.headers.get('Max-Forwards');
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
    const c = this.cache();
    if (c.contacts !== undefined) return c.contacts;
    const out: Contact[] = [];
    for (const s of this.headers.values('Contact')) {
      const r = parseContact(s);
      if (r.ok) out.push(r.value);
    }
    return (c.contacts = out);
  }

  get routes(): readonly NameAddr[] {
    const c = this.cache();
    return (c.routes ??= nameAddrList(this.headers.values('Route')));
  }

  get recordRoutes(): readonly NameAddr[] {
    const c = this.cache();
    return (c.recordRoutes ??= nameAddrList(this.headers.values('Record-Route')));
  }

  /** Serialises the message; Content-Length is set to the body length. */
  toBuffer(): Buffer {
    const body = this.body;
    const w = this.#wire;
    if (
      w !== undefined &&
      w.headers === this.headers &&
      w.version === this.headers.version &&
      w.body === body &&
      w.k1 === this.startPart1() &&
      w.k2 === this.startPart2()
    ) {
      // unchanged since parsing: the received bytes are the serialisation
      const out = Buffer.allocUnsafe(w.end - w.from);
      w.buf.copy(out, 0, w.from, w.end);
      return out;
    }
    const len = String(body.length);
    if (this.headers.get('Content-Length') !== len) this.headers.set('Content-Length', len);
    const head = this.startLine() + '\r\n' + this.headers.serialize(body.length) + '\r\n';
    const out = Buffer.allocUnsafe(head.length + body.length);
    (out as unknown as Latin1Writer).latin1Write(head, 0);
    if (body.length > 0) body.copy(out, head.length);
    return out;
  }

  /** @internal Remembers the received bytes [from, end) for verbatim re-serialisation. */
  setWire(buf: Buffer, from: number, end: number): void {
    this.#wire = {
      buf,
      from,
      end,
      headers: this.headers,
      version: this.headers.version,
      body: this.body,
      k1: this.startPart1(),
      k2: this.startPart2(),
    };
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
  #parsedUri: { raw: string; uri: Uri } | undefined;

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

  /** Parsed Request-URI; an AbsoluteUri with the raw text when it does not parse. */
  get requestUri(): Uri {
    const p = this.#parsedUri;
    if (p !== undefined && p.raw === this.#uri) return p.uri;
    const r = parseUri(this.#uri);
    const uri: Uri = r.ok ? r.uri : { scheme: '', raw: this.#uri };
    this.#parsedUri = { raw: this.#uri, uri };
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
