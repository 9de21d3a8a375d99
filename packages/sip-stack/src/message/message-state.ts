// Per-message state behind SipRequest/SipResponse: the routing-value cache and the
// Route/Record-Route list reader.

import type { SipHeaders } from './sip-headers.js';
import type { HeaderId } from './header-names.js';
import { splitValues } from './header-values.js';
import type { Via } from './via.js';
import type { CSeq } from './cseq.js';
import type { Uri } from './sip-uri.js';
import { parseNameAddr, parseAngleAddr, type NameAddr, type Contact } from './name-addr.js';

/** Parsed values routing seldom reads; made on first need (saves their slots per message). */
export class RareCache {
  via: readonly Via[] | undefined = undefined;
  from: NameAddr | undefined = undefined;
  to: NameAddr | undefined = undefined;
  fromTag: string | null | undefined = undefined;
  contacts: readonly Contact[] | undefined = undefined;
  routes: readonly NameAddr[] | undefined = undefined;
  recordRoutes: readonly NameAddr[] | undefined = undefined;
}

/** Parsed routing values, valid while `headers` and its version are unchanged. */
export class Cache {
  readonly h: SipHeaders;
  readonly v: number;
  topVia: Via | null | undefined = undefined;
  cseq: CSeq | undefined = undefined;
  callId: string | undefined = undefined;
  toTag: string | null | undefined = undefined;
  maxForwards: number | null | undefined = undefined;
  routeUris: readonly Uri[] | undefined = undefined;
  /** The other values, once one of them was asked for. */
  more: RareCache | undefined = undefined;
  constructor(h: SipHeaders) {
    this.h = h;
    this.v = h.version;
  }

  rare(): RareCache {
    return (this.more ??= new RareCache());
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
