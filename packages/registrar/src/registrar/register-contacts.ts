/**
 * Reads the Contact and Expires header fields of a REGISTER (RFC 3261 §10.3 steps 6–7, §20.19)
 * and the RFC 5626 parameters (`+sip.instance`, `reg-id`). Never throws on peer input.
 */
import {
  formatNameAddr,
  isSipUri,
  parseContact,
  parseUri,
  unquote,
  type Contact,
  type NameAddr,
  type SipRequest,
  type SipUri,
} from '@switchboard/sip-stack';
import { contactKeyOf } from './aor.js';

export interface ExpiryLimits {
  /** Used when neither the Contact nor the request gives an expiry (RFC 3261 §10.2.1.1). */
  defaultExpires: number;
  /** Shorter non-zero requests get 423 (§10.3 step 7). */
  minExpires: number;
  /** Longer requests are shortened to this (§10.3 step 7: the registrar MAY shorten). */
  maxExpires: number;
}

export interface RequestedContact {
  uri: string;
  /** Contact value echoed in the 200 (all parameters but expires). */
  echo: string;
  /** Granted seconds; 0 removes the binding. */
  expires: number;
  key: string;
  q?: number | undefined;
  instanceId?: string | undefined;
  regId?: number | undefined;
  outbound: boolean;
  /** The Contact URI parsed, when it is a SIP URI (for the binding's target). */
  sipUri?: SipUri | undefined;
}

export type ContactsResult =
  | { ok: true; star: true }
  | { ok: true; star: false; contacts: RequestedContact[]; outbound: boolean }
  | { ok: false; status: number; reason: string; headers?: Record<string, string> };

const MAX_DELTA = 0xffffffff;
const MAX_REG_ID = 0x7fffffff;

/** RFC 3261 §20.19: a malformed Expires counts as 3600; larger than 2**32-1 counts as that. */
export function parseExpiresHeader(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d{1,20})\s*$/.exec(value);
  if (m === null) return 3600;
  return Math.min(Number(m[1]), MAX_DELTA);
}

function bad(reason: string): ContactsResult {
  return { ok: false, status: 400, reason };
}

export function hasOptionTag(request: SipRequest, header: string, tag: string): boolean {
  return request.headers.values(header).some((v) => v.trim().toLowerCase() === tag);
}

function echoValue(c: Contact): string {
  let params = c.params;
  if (params.has('expires')) {
    params = new Map(params);
    params.delete('expires');
  }
  const n: NameAddr = {
    uri: c.uri,
    params,
    ...(c.displayName === undefined ? {} : { displayName: c.displayName }),
  };
  return formatNameAddr(n);
}

function regIdOf(c: Contact): number | undefined | null {
  const raw = c.params.get('reg-id');
  if (raw === undefined) return undefined;
  if (raw === null || !/^\d{1,10}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 && n <= MAX_REG_ID ? n : null;
}

function indexByKey(contacts: readonly RequestedContact[]): Map<string, number> {
  return new Map(contacts.map((c, i) => [c.key, i]));
}

/** Contact values of a REGISTER, with their expiry decided; or the error response to send. */
export function readContacts(
  request: SipRequest,
  limits: ExpiryLimits,
  outboundEnabled: boolean,
): ContactsResult {
  const values = request.headers.values('Contact');
  const headerExpires = parseExpiresHeader(request.headers.get('Expires'));
  if (values.some((v) => v.trim() === '*')) {
    // RFC 3261 §10.3 step 6: "*" only alone and only with Expires: 0
    if (values.length !== 1) return bad('Contact * with other contacts');
    if (headerExpires !== 0) return bad('Contact * requires Expires: 0');
    return { ok: true, star: true };
  }
  // RFC 5626 §6: reg-id counts only when the UA supports outbound
  const supportsOutbound = outboundEnabled && hasOptionTag(request, 'Supported', 'outbound');
  const contacts: RequestedContact[] = [];
  let index: Map<string, number> | undefined;
  let flows = 0;
  let tooBrief = false;
  for (const v of values) {
    const r = parseContact(v);
    if (!r.ok) return bad(`bad Contact: ${r.reason}`);
    const c = r.value;
    const instance = c.params.get('+sip.instance');
    const instanceId = instance === undefined || instance === null ? undefined : unquote(instance);
    const regId = regIdOf(c);
    if (regId === null) return bad('bad reg-id');
    const outbound = supportsOutbound && instanceId !== undefined && regId !== undefined;
    if (outbound) flows++;
    // RFC 3261 §10.3 step 7: the Contact's expires param, else the Expires header, else the default
    let expires = c.expires ?? headerExpires ?? limits.defaultExpires;
    // §10.3 step 7: 0 < expiry < min (and below one hour) → 423
    if (expires > 0 && expires < limits.minExpires && expires < 3600) tooBrief = true;
    if (expires > limits.maxExpires) expires = limits.maxExpires;
    const parsed = parseUri(c.uri);
    const key = outbound
      ? `ob|${instanceId}|${regId}`
      : instanceId !== undefined
        ? `inst|${instanceId}`
        : contactKeyOf(c.uri, parsed);
    const contact: RequestedContact = {
      uri: c.uri,
      echo: echoValue(c),
      expires,
      key,
      outbound,
      q: c.q,
      instanceId,
      regId: outbound ? regId : undefined,
      sipUri: parsed.ok && isSipUri(parsed.uri) ? parsed.uri : undefined,
    };
    // the same binding twice: the last one counts, in the place of the first
    const same = contacts.length === 0 ? undefined : (index ??= indexByKey(contacts)).get(key);
    if (same === undefined) {
      index?.set(key, contacts.length);
      contacts.push(contact);
    } else contacts[same] = contact;
  }
  // RFC 5626 §4.2.1: one flow per REGISTER
  if (flows > 1) return bad('more than one Contact with reg-id');
  if (tooBrief)
    return {
      ok: false,
      status: 423,
      reason: 'Interval Too Brief',
      headers: { 'Min-Expires': String(limits.minExpires) },
    };
  return { ok: true, star: false, contacts, outbound: flows > 0 };
}
