// Deep validation of every header with a known grammar (ParseOptions.strict, RFC 4475 §3.1.2).

import { parseVia } from './via.js';
import { parseContact, parseNameAddr } from './name-addr.js';
import { parseUri } from './sip-uri.js';
import { parseDecimal, valueEnd } from './header-values.js';
import type { SipMessage } from './sip-message.js';

export type ValidateResult = { ok: true } | { ok: false; reason: string };

const STRICT = { strict: true } as const;
const NUMERIC = ['Expires', 'Min-Expires', 'RSeq', 'Min-SE'];

function checkUri(raw: string, what: string): string | undefined {
  const r = parseUri(raw);
  return r.ok ? undefined : `bad URI in ${what}: ${r.reason}`;
}

function checkNameAddrs(msg: SipMessage, name: string, needAngle: boolean): string | undefined {
  for (const v of msg.headers.values(name)) {
    // RFC 3261 §20.30, §20.34: Route and Record-Route values are name-addr
    if (needAngle && v.indexOf('<') < 0) return `${name} must use angle brackets`;
    const r = name === 'Contact' ? parseContact(v, STRICT) : parseNameAddr(v, STRICT);
    if (!r.ok) return `bad ${name} header: ${r.reason}`;
    if (name === 'Contact' && 'star' in r.value && r.value.star) continue;
    const bad = checkUri(r.value.uri, name);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/** Parses every known header of `msg`; returns the first problem. Never throws. */
export function validateMessage(msg: SipMessage): ValidateResult {
  const problem = findProblem(msg);
  return problem === undefined ? { ok: true } : { ok: false, reason: problem };
}

function findProblem(msg: SipMessage): string | undefined {
  if (msg.kind === 'request') {
    const bad = checkUri(msg.uri, 'Request-URI');
    if (bad !== undefined) return bad;
  }
  // RFC 3261 §25.1 callid = word [ "@" word ]
  if (!/^[^\s,@]+(@[^\s,@]+)?$/.test(msg.headers.get('Call-ID') ?? '')) return 'bad Call-ID header';
  for (const v of msg.headers.values('Via')) {
    const r = parseVia(v);
    if (!r.ok) return `bad Via header: ${r.reason}`;
  }
  for (const name of ['From', 'To']) {
    const raw = msg.headers.get(name);
    if (raw === undefined) continue;
    // RFC 3261 §7.3.1: From and To carry exactly one value
    if (valueEnd(raw, 0) !== raw.length) return `more than one value in ${name}`;
    const bad = checkNameAddrs(msg, name, false);
    if (bad !== undefined) return bad;
  }
  const contacts = msg.headers.values('Contact');
  // RFC 3261 §10.3: "*" only alone
  if (contacts.length > 1 && contacts.includes('*')) return 'Contact "*" mixed with other values';
  for (const [name, angle] of [
    ['Contact', false],
    ['Route', true],
    ['Record-Route', true],
  ] as const) {
    const bad = checkNameAddrs(msg, name, angle);
    if (bad !== undefined) return bad;
  }
  for (const name of NUMERIC) {
    for (const v of msg.headers.getAll(name)) {
      const n = parseDecimal(v.trim());
      if (n < 0 || n > 0xffffffff) return `bad ${name} header`;
    }
  }
  const ct = msg.headers.get('Content-Type');
  if (
    ct !== undefined &&
    !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*\/\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+/.test(ct)
  )
    return 'bad Content-Type header';
  return undefined;
}
