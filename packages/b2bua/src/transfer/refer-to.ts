/**
 * The target of a REFER (RFC 3515 §2.1 Refer-To) and the Replaces header it may carry as a URI
 * header (RFC 3891 §5, attended transfer). Untrusted input: never throws.
 */
import { formatUri, isSipUri, parseNameAddr, parseUri } from '@switchboard/sip-stack';
import type { SipRequest } from '@switchboard/sip-stack';

/** RFC 3891 §6.1: the dialog a new INVITE replaces. */
export interface ReplacesTarget {
  callId: string;
  toTag: string;
  fromTag: string;
  earlyOnly: boolean;
}

export interface ReferTarget {
  /** The Request-URI for the new INVITE (URI headers removed). */
  uri: string;
  /** The Replaces header value to send, when the Refer-To asked for one. */
  replaces: string | undefined;
  /** Other URI headers (RFC 3261 §19.1.1 `?name=value`), to be copied onto the INVITE. */
  headers: Readonly<Record<string, string>>;
}

export type ReferToResult = { ok: true; target: ReferTarget } | { ok: false; reason: string };

/** Headers a Refer-To URI may not set on our INVITE (topology and transaction headers). */
const FORBIDDEN = new Set([
  'via',
  'call-id',
  'cseq',
  'from',
  'to',
  'contact',
  'route',
  'record-route',
  'max-forwards',
  'content-length',
]);

export function parseReferTo(request: SipRequest): ReferToResult {
  const values = request.headers.getAll('Refer-To');
  // RFC 3515 §2.4.1: exactly one Refer-To.
  if (values.length !== 1 || values[0] === undefined)
    return { ok: false, reason: 'need exactly one Refer-To' };
  const named = parseNameAddr(values[0].trim());
  if (!named.ok) return { ok: false, reason: 'Refer-To does not parse' };
  const parsed = parseUri(named.value.uri);
  if (!parsed.ok || !isSipUri(parsed.uri))
    return { ok: false, reason: 'Refer-To is not a SIP URI' };
  const uri = parsed.uri;
  let replaces: string | undefined;
  const headers: Record<string, string> = {};
  for (const [name, raw] of uri.headers) {
    let value: string;
    try {
      value = decodeURIComponent(raw);
    } catch {
      return { ok: false, reason: `bad escape in Refer-To header ${name}` };
    }
    if (name.toLowerCase() === 'replaces') replaces = value;
    else if (!FORBIDDEN.has(name.toLowerCase()) && name.toLowerCase() !== 'body')
      headers[name] = value;
  }
  return {
    ok: true,
    target: {
      uri: formatUri({ ...uri, params: uri.params, headers: new Map() }),
      replaces,
      headers,
    },
  };
}

/** Replaces: `call-id;to-tag=x;from-tag=y[;early-only]` (RFC 3891 §6.1). */
export function parseReplaces(value: string): ReplacesTarget | undefined {
  const [callId, ...params] = value.split(';').map((p) => p.trim());
  if (callId === undefined || callId === '') return undefined;
  let toTag: string | undefined;
  let fromTag: string | undefined;
  let earlyOnly = false;
  for (const p of params) {
    const [k, v] = p.split('=').map((x) => x.trim());
    if (k?.toLowerCase() === 'to-tag') toTag = v;
    else if (k?.toLowerCase() === 'from-tag') fromTag = v;
    else if (k?.toLowerCase() === 'early-only') earlyOnly = true;
  }
  if (toTag === undefined || fromTag === undefined) return undefined;
  return { callId, toTag, fromTag, earlyOnly };
}
