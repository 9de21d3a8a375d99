// Header name canonicalisation: case-insensitive names and compact forms (RFC 3261 §7.3.3, §20).

/** Ids for the headers the parser treats specially while scanning (0 = nothing special). */
export const HeaderId = {
  other: 0,
  via: 1,
  cseq: 2,
  callId: 3,
  maxForwards: 4,
  contentLength: 5,
  from: 6,
  to: 7,
  route: 8,
  recordRoute: 9,
  contact: 10,
} as const;
export type HeaderId = (typeof HeaderId)[keyof typeof HeaderId];

export interface HeaderInfo {
  /** Lower-case long form, used for matching ("call-id"). */
  readonly key: string;
  /** Canonical display form ("Call-ID"); for unknown headers the name as received. */
  readonly name: string;
  readonly id: HeaderId;
}

const CANONICAL = [
  'Accept',
  'Accept-Contact',
  'Accept-Encoding',
  'Accept-Language',
  'Accept-Resource-Priority',
  'Alert-Info',
  'Allow',
  'Allow-Events',
  'Authentication-Info',
  'Authorization',
  'Call-ID',
  'Call-Info',
  'Contact',
  'Content-Disposition',
  'Content-Encoding',
  'Content-ID',
  'Content-Language',
  'Content-Length',
  'Content-Type',
  'CSeq',
  'Date',
  'Error-Info',
  'Event',
  'Expires',
  'Flow-Timer',
  'From',
  'History-Info',
  'Identity',
  'Identity-Info',
  'In-Reply-To',
  'Join',
  'Max-Breadth',
  'Max-Forwards',
  'MIME-Version',
  'Min-Expires',
  'Min-SE',
  'Organization',
  'P-Asserted-Identity',
  'P-Preferred-Identity',
  'Path',
  'Permission-Missing',
  'Priority',
  'Privacy',
  'Proxy-Authenticate',
  'Proxy-Authorization',
  'Proxy-Require',
  'RAck',
  'Reason',
  'Record-Route',
  'Refer-Sub',
  'Refer-To',
  'Referred-By',
  'Reject-Contact',
  'Replaces',
  'Reply-To',
  'Request-Disposition',
  'Require',
  'Resource-Priority',
  'Retry-After',
  'Route',
  'RSeq',
  'Security-Client',
  'Security-Server',
  'Security-Verify',
  'Server',
  'Service-Route',
  'Session-Expires',
  'SIP-ETag',
  'SIP-If-Match',
  'Subject',
  'Subscription-State',
  'Supported',
  'Target-Dialog',
  'Timestamp',
  'To',
  'Unsupported',
  'User-Agent',
  'Via',
  'Warning',
  'WWW-Authenticate',
] as const;

/** RFC 3261 §7.3.3 and later RFCs (3265, 3515, 3892, 3841, 4028, 4474, 6665). */
const COMPACT: Readonly<Record<string, string>> = {
  a: 'Accept-Contact',
  b: 'Referred-By',
  c: 'Content-Type',
  d: 'Request-Disposition',
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  j: 'Reject-Contact',
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  n: 'Identity-Info',
  o: 'Event',
  r: 'Refer-To',
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events',
  v: 'Via',
  x: 'Session-Expires',
  y: 'Identity',
};

const IDS: Readonly<Record<string, HeaderId>> = {
  via: HeaderId.via,
  cseq: HeaderId.cseq,
  'call-id': HeaderId.callId,
  'max-forwards': HeaderId.maxForwards,
  'content-length': HeaderId.contentLength,
  from: HeaderId.from,
  to: HeaderId.to,
  route: HeaderId.route,
  'record-route': HeaderId.recordRoute,
  contact: HeaderId.contact,
};

/** Lower-case spelling (long or compact) → info. */
const BY_LOWER = new Map<string, HeaderInfo>();
/** Exact spellings seen on the wire (canonical, lower, upper, compact) → info; avoids toLowerCase. */
const EXACT = new Map<string, HeaderInfo>();

for (const name of CANONICAL) {
  const key = name.toLowerCase();
  const info: HeaderInfo = Object.freeze({ key, name, id: IDS[key] ?? HeaderId.other });
  BY_LOWER.set(key, info);
  EXACT.set(name, info);
  EXACT.set(key, info);
  EXACT.set(name.toUpperCase(), info);
}
for (const [letter, long] of Object.entries(COMPACT)) {
  const info = BY_LOWER.get(long.toLowerCase());
  if (info === undefined) continue;
  BY_LOWER.set(letter, info);
  EXACT.set(letter, info);
  EXACT.set(letter.toUpperCase(), info);
}

/** Info of each HeaderId other than `other`, by id. */
const BY_ID: HeaderInfo[] = [];
for (const info of BY_LOWER.values()) if (info.id !== HeaderId.other) BY_ID[info.id] = info;

/** @internal The info of a (non-zero) HeaderId. */
export function infoOfId(id: HeaderId): HeaderInfo {
  return BY_ID[id] as HeaderInfo;
}

/** Info for a header name as received or as passed to the API. Never throws. */
export function headerInfo(name: string): HeaderInfo {
  const exact = EXACT.get(name);
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  return BY_LOWER.get(lower) ?? { key: lower, name, id: HeaderId.other };
}

/** Known spellings bucketed by (length, first letter) for allocation-free lookup in a line. */
interface Candidate {
  /** Lower-case char codes of the spelling. */
  codes: Uint8Array;
  info: HeaderInfo;
}
const BUCKETS: Candidate[][] = [];
for (const [lower, info] of BY_LOWER) {
  if (lower.length >= 64) continue;
  const b = (lower.length << 5) | (lower.charCodeAt(0) & 31);
  (BUCKETS[b] ??= []).push({ codes: Uint8Array.from(lower, (ch) => ch.charCodeAt(0)), info });
}

/**
 * Info for the known header whose name (any case, long or compact) is `s[start, end)`, without
 * allocating; undefined for unknown names.
 */
export function lookupHeaderName(s: string, start: number, end: number): HeaderInfo | undefined {
  const len = end - start;
  if (len <= 0 || len >= 64) return undefined;
  const list = BUCKETS[(len << 5) | (s.charCodeAt(start) & 31)];
  if (list === undefined) return undefined;
  outer: for (let k = 0; k < list.length; k++) {
    const cand = list[k] as Candidate;
    const codes = cand.codes;
    for (let i = 0; i < len; i++) {
      const a = s.charCodeAt(start + i);
      const b = codes[i] as number;
      if (a !== b && !(b >= 97 && b <= 122 && a === b - 32)) continue outer;
    }
    return cand.info;
  }
  return undefined;
}

// The comparisons below are unrolled: `| 32` folds A-Z onto a-z (the name is a token, so no other
// byte folds onto a letter); "-" is compared exactly.

/**
 * Scan-time classification of the header name in bytes b[start, end), which the caller has
 * checked is a token: the HeaderId of the headers routing and framing need (any case, long or
 * compact form), else 0. Allocation-free; other names get their HeaderInfo on first use.
 */
export function classifyHeaderName(b: Uint8Array, start: number, end: number): HeaderId {
  const c = (b[start] as number) | 32;
  switch (end - start) {
    case 1:
      // RFC 3261 §7.3.3 compact forms
      if (c === 118 /* v */) return HeaderId.via;
      if (c === 105 /* i */) return HeaderId.callId;
      if (c === 102 /* f */) return HeaderId.from;
      if (c === 116 /* t */) return HeaderId.to;
      if (c === 108 /* l */) return HeaderId.contentLength;
      if (c === 109 /* m */) return HeaderId.contact;
      break;
    case 2:
      if (c === 116 && ((b[start + 1] as number) | 32) === 111) return HeaderId.to;
      break;
    case 3:
      if (
        c === 118 &&
        ((b[start + 1] as number) | 32) === 105 &&
        ((b[start + 2] as number) | 32) === 97
      )
        return HeaderId.via;
      break;
    case 4:
      if (
        c === 99 &&
        ((b[start + 1] as number) | 32) === 115 &&
        ((b[start + 2] as number) | 32) === 101 &&
        ((b[start + 3] as number) | 32) === 113
      )
        return HeaderId.cseq;
      if (
        c === 102 &&
        ((b[start + 1] as number) | 32) === 114 &&
        ((b[start + 2] as number) | 32) === 111 &&
        ((b[start + 3] as number) | 32) === 109
      )
        return HeaderId.from;
      break;
    case 5:
      if (
        c === 114 &&
        ((b[start + 1] as number) | 32) === 111 &&
        ((b[start + 2] as number) | 32) === 117 &&
        ((b[start + 3] as number) | 32) === 116 &&
        ((b[start + 4] as number) | 32) === 101
      )
        return HeaderId.route;
      break;
    case 7:
      if (
        c === 99 &&
        ((b[start + 1] as number) | 32) === 97 &&
        ((b[start + 2] as number) | 32) === 108 &&
        ((b[start + 3] as number) | 32) === 108 &&
        b[start + 4] === 45 &&
        ((b[start + 5] as number) | 32) === 105 &&
        ((b[start + 6] as number) | 32) === 100
      )
        return HeaderId.callId;
      if (
        c === 99 &&
        ((b[start + 1] as number) | 32) === 111 &&
        ((b[start + 2] as number) | 32) === 110 &&
        ((b[start + 3] as number) | 32) === 116 &&
        ((b[start + 4] as number) | 32) === 97 &&
        ((b[start + 5] as number) | 32) === 99 &&
        ((b[start + 6] as number) | 32) === 116
      )
        return HeaderId.contact;
      break;
    case 12:
      if (
        c === 109 &&
        ((b[start + 1] as number) | 32) === 97 &&
        ((b[start + 2] as number) | 32) === 120 &&
        b[start + 3] === 45 &&
        ((b[start + 4] as number) | 32) === 102 &&
        ((b[start + 5] as number) | 32) === 111 &&
        ((b[start + 6] as number) | 32) === 114 &&
        ((b[start + 7] as number) | 32) === 119 &&
        ((b[start + 8] as number) | 32) === 97 &&
        ((b[start + 9] as number) | 32) === 114 &&
        ((b[start + 10] as number) | 32) === 100 &&
        ((b[start + 11] as number) | 32) === 115
      )
        return HeaderId.maxForwards;
      if (
        c === 114 &&
        ((b[start + 1] as number) | 32) === 101 &&
        ((b[start + 2] as number) | 32) === 99 &&
        ((b[start + 3] as number) | 32) === 111 &&
        ((b[start + 4] as number) | 32) === 114 &&
        ((b[start + 5] as number) | 32) === 100 &&
        b[start + 6] === 45 &&
        ((b[start + 7] as number) | 32) === 114 &&
        ((b[start + 8] as number) | 32) === 111 &&
        ((b[start + 9] as number) | 32) === 117 &&
        ((b[start + 10] as number) | 32) === 116 &&
        ((b[start + 11] as number) | 32) === 101
      )
        return HeaderId.recordRoute;
      break;
    case 14:
      if (
        c === 99 &&
        ((b[start + 1] as number) | 32) === 111 &&
        ((b[start + 2] as number) | 32) === 110 &&
        ((b[start + 3] as number) | 32) === 116 &&
        ((b[start + 4] as number) | 32) === 101 &&
        ((b[start + 5] as number) | 32) === 110 &&
        ((b[start + 6] as number) | 32) === 116 &&
        b[start + 7] === 45 &&
        ((b[start + 8] as number) | 32) === 108 &&
        ((b[start + 9] as number) | 32) === 101 &&
        ((b[start + 10] as number) | 32) === 110 &&
        ((b[start + 11] as number) | 32) === 103 &&
        ((b[start + 12] as number) | 32) === 116 &&
        ((b[start + 13] as number) | 32) === 104
      )
        return HeaderId.contentLength;
      break;
  }
  return HeaderId.other;
}

/** Lower-case long-form key of a header name ("v" → "via"). */
export function headerKey(name: string): string {
  return headerInfo(name).key;
}

/** Canonical display name ("CALL-ID" → "Call-ID", "m" → "Contact"); unknown names unchanged. */
export function canonicalHeaderName(name: string): string {
  return headerInfo(name).name;
}
