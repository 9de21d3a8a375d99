/**
 * Which headers of the incoming INVITE reach the outgoing one. A B2BUA starts every leg afresh:
 * Via, Record-Route, Route, Contact, Call-ID, CSeq, tags and Max-Forwards are always its own;
 * anything else crosses only when the policy names it (e.g. P-Asserted-Identity, Diversion).
 */
import type { HeaderValues, SipRequest } from '@switchboard/sip-stack';

export interface HeaderPolicy {
  /** Headers copied from the incoming INVITE (case-insensitive names). Default: none. */
  pass?: readonly string[];
  /** Headers set on the outgoing INVITE (replacing passed ones of that name). */
  set?: Readonly<Record<string, string | readonly string[]>>;
  /** Headers removed last (after pass and set). */
  remove?: readonly string[];
}

/** Topology and transaction headers no policy may copy across legs. */
const NEVER_COPIED: ReadonlySet<string> = new Set(
  [
    'via',
    'v',
    'record-route',
    'route',
    'contact',
    'm',
    'call-id',
    'i',
    'cseq',
    'from',
    'f',
    'to',
    't',
    'max-forwards',
    'content-length',
    'l',
    'content-type',
    'c',
    'authorization',
    'proxy-authorization',
    'www-authenticate',
    'proxy-authenticate',
    'session-expires',
    'x',
    'min-se',
    'require',
    'supported',
    'k',
    'rseq',
    'rack',
  ].map((n) => n.toLowerCase()),
);

/** True when `name` may be passed or set by policy. */
export function isCopyable(name: string): boolean {
  return !NEVER_COPIED.has(name.toLowerCase());
}

/** The policy's headers for the outgoing INVITE built from `incoming`. */
export function outboundHeaders(
  incoming: SipRequest,
  policy: HeaderPolicy | undefined,
): HeaderValues {
  const out: Record<string, string | readonly string[]> = {};
  for (const name of policy?.pass ?? []) {
    if (!isCopyable(name)) continue;
    const values = incoming.headers.getAll(name);
    if (values.length > 0) out[name] = values.length === 1 ? (values[0] as string) : values;
  }
  for (const [name, value] of Object.entries(policy?.set ?? {})) {
    if (!isCopyable(name)) continue;
    for (const existing of Object.keys(out))
      if (existing.toLowerCase() === name.toLowerCase()) delete out[existing];
    out[name] = value;
  }
  for (const name of policy?.remove ?? []) {
    for (const existing of Object.keys(out))
      if (existing.toLowerCase() === name.toLowerCase()) delete out[existing];
  }
  return out;
}
