// Per-message state behind SipRequest/SipResponse: the routing-value cache, the received bytes
// kept for verbatim re-serialisation, and the Route/Record-Route list reader.

import type { SipHeaders } from './sip-headers.js';
import type { HeaderId } from './header-names.js';
import { splitValues } from './header-values.js';
import type { Via } from './via.js';
import type { CSeq } from './cseq.js';
import type { Uri } from './sip-uri.js';
import { parseNameAddr, parseAngleAddr, type NameAddr, type Contact } from './name-addr.js';

/** Parsed routing values, valid while `headers` and its version are unchanged. */
export class Cache {
  readonly h: SipHeaders;
  readonly v: number;
  via: readonly Via[] | undefined = undefined;
  topVia: Via | null | undefined = undefined;
  cseq: CSeq | undefined = undefined;
  callId: string | undefined = undefined;
  from: NameAddr | undefined = undefined;
  to: NameAddr | undefined = undefined;
  fromTag: string | null | undefined = undefined;
  toTag: string | null | undefined = undefined;
  maxForwards: number | null | undefined = undefined;
  contacts: readonly Contact[] | undefined = undefined;
  routes: readonly NameAddr[] | undefined = undefined;
  routeUris: readonly Uri[] | undefined = undefined;
  recordRoutes: readonly NameAddr[] | undefined = undefined;
  constructor(h: SipHeaders) {
    this.h = h;
    this.v = h.version;
  }
}

/** The received bytes of a parsed message and the state they correspond to. */
export class Wire {
  readonly buf: Buffer;
  readonly from: number;
  readonly end: number;
  readonly headers: SipHeaders;
  readonly version: number;
  /** Start-line parts at parse time: method and URI, or status and reason. */
  readonly k1: string | number;
  readonly k2: string;
  /** The body as first materialised; undefined while it was never read or replaced. */
  body: Buffer | undefined = undefined;
  constructor(
    buf: Buffer,
    from: number,
    end: number,
    headers: SipHeaders,
    k1: string | number,
    k2: string,
  ) {
    this.buf = buf;
    this.from = from;
    this.end = end;
    this.headers = headers;
    this.version = headers.version;
    this.k1 = k1;
    this.k2 = k2;
  }
}

/** Scratch value span for SipHeaders#rawSpan (read immediately). */
const SPAN: [number, number] = [0, 0];

/**
 * The name-addr values of every line with HeaderId `id` (Route, Record-Route), malformed ones
 * skipped; plain "<uri>" lines are read in place, others split and parsed as strings.
 */
export function nameAddrList(h: SipHeaders, id: HeaderId): NameAddr[] {
  const out: NameAddr[] = [];
  for (let i = h.lineOf(id); i >= 0; i = h.lineOf(id, i + 1)) {
    const src = h.rawSpan(i, SPAN);
    if (src !== undefined) {
      const v = parseAngleAddr(src, SPAN[0], SPAN[1]);
      if (v !== undefined) {
        out.push(v);
        continue;
      }
    }
    const line = h.peekAt(i);
    const values = line.indexOf(',') < 0 ? [line.trim()] : splitValues(line);
    for (const s of values) {
      if (s.length === 0) continue;
      const r = parseNameAddr(s);
      if (r.ok) out.push(r.value);
    }
  }
  return out;
}
