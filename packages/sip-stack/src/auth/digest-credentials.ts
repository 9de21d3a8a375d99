import { parseDigestAlgorithm, type DigestAlgorithm, type DigestQop } from './digest-algorithm.js';
import {
  parseAuthParams,
  quoteString,
  type AuthParams,
  type AuthParamValue,
} from './parse-auth-params.js';

/** A parsed Authorization / Proxy-Authorization value with scheme Digest (RFC 7616 §3.4). */
export interface DigestCredentials {
  /** The username, or the userhash when `userhash` is true (RFC 7616 §3.4.4). */
  username: string;
  realm: string;
  nonce: string;
  /** digest-uri as sent. */
  uri: string;
  response: string;
  /** MD5 when the parameter is absent (RFC 7616 §3.4). */
  algorithm: DigestAlgorithm;
  cnonce?: string;
  /** nonce-count: 8 hex digits. */
  nc?: string;
  qop?: DigestQop;
  opaque?: string;
  userhash?: boolean;
}

export type DigestCredentialsResult =
  { ok: true; value: DigestCredentials } | { ok: false; reason: string };

const HEX = /^[0-9a-fA-F]+$/;
const NC = /^[0-9a-fA-F]{8}$/;

/** RFC 5987 ext-value `UTF-8'lang'pct-encoded` (RFC 7616 §3.4.4 `username*`). */
function decodeExtValue(v: string): string | undefined {
  const m = /^([^']*)'[^']*'(.*)$/.exec(v);
  if (m === null || m[1]?.toLowerCase() !== 'utf-8') return undefined;
  try {
    return decodeURIComponent(m[2] ?? '');
  } catch {
    return undefined;
  }
}

function encodeExtValue(v: string): string {
  return `UTF-8''${encodeURIComponent(v).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

/** The directives of a Digest credentials value, as written (quotes removed). */
export interface DigestFields {
  username?: string | undefined;
  /** `username*` (RFC 7616 §3.4.4). */
  usernameExt?: string | undefined;
  realm?: string | undefined;
  nonce?: string | undefined;
  uri?: string | undefined;
  response?: string | undefined;
  algorithm?: string | undefined;
  cnonce?: string | undefined;
  nc?: string | undefined;
  qop?: string | undefined;
  opaque?: string | undefined;
  userhash?: string | undefined;
}

function readUsername(f: DigestFields): string | { error: string } {
  // RFC 7616 §3.4.4: username and username* MUST NOT both be present
  if (f.username !== undefined && f.usernameExt !== undefined)
    return { error: 'both username and username*' };
  if (f.username !== undefined) return f.username;
  if (f.usernameExt === undefined) return { error: 'missing username' };
  const decoded = decodeExtValue(f.usernameExt);
  return decoded ?? { error: 'bad username*' };
}

function readQop(v: string | undefined): DigestQop | undefined | { error: string } {
  if (v === undefined) return undefined;
  const q = v.toLowerCase();
  if (q === 'auth' || q === 'auth-int') return q;
  return { error: `unsupported qop ${v}` };
}

function value(params: Map<string, AuthParamValue>, name: string): string | undefined {
  return params.get(name)?.value;
}

/** Parses one Authorization / Proxy-Authorization value. Never throws. */
export function parseDigestCredentials(value: string): DigestCredentialsResult {
  const parsed = parseAuthParams(value);
  if (!parsed.ok) return parsed;
  return digestCredentialsFrom(parsed.value);
}

/** The Digest credentials of a value already split by `parseAuthParams` (no second parse). */
export function digestCredentialsFrom({ scheme, params }: AuthParams): DigestCredentialsResult {
  if (scheme.toLowerCase() !== 'digest')
    return { ok: false, reason: `scheme ${scheme} is not Digest` };
  return credentialsFromFields({
    username: value(params, 'username'),
    usernameExt: value(params, 'username*'),
    realm: value(params, 'realm'),
    nonce: value(params, 'nonce'),
    uri: value(params, 'uri'),
    response: value(params, 'response'),
    algorithm: value(params, 'algorithm'),
    cnonce: value(params, 'cnonce'),
    nc: value(params, 'nc'),
    qop: value(params, 'qop'),
    opaque: value(params, 'opaque'),
    userhash: value(params, 'userhash'),
  });
}

/** The credentials the directives of a Digest value make, checked (RFC 7616 §3.4). */
export function credentialsFromFields(f: DigestFields): DigestCredentialsResult {
  const username = readUsername(f);
  if (typeof username !== 'string') return { ok: false, reason: username.error };
  const { realm, nonce, uri, response } = f;
  if (realm === undefined || nonce === undefined || uri === undefined || response === undefined) {
    return { ok: false, reason: 'missing realm, nonce, uri or response' };
  }
  if (!HEX.test(response)) return { ok: false, reason: 'response is not hex' };
  const algToken = f.algorithm;
  const algorithm = algToken === undefined ? 'MD5' : parseDigestAlgorithm(algToken);
  if (algorithm === undefined)
    return { ok: false, reason: `unsupported algorithm ${algToken ?? ''}` };
  const qop = readQop(f.qop);
  if (typeof qop === 'object') return { ok: false, reason: qop.error };
  const cred: DigestCredentials = { username, realm, nonce, uri, response, algorithm };
  const { cnonce, nc } = f;
  if (qop !== undefined) {
    // RFC 7616 §3.4: cnonce and nc MUST be sent when qop is
    if (cnonce === undefined || nc === undefined)
      return { ok: false, reason: 'qop without cnonce or nc' };
    if (!NC.test(nc)) return { ok: false, reason: 'bad nc' };
    cred.qop = qop;
    cred.cnonce = cnonce;
    cred.nc = nc;
  }
  if (f.opaque !== undefined) cred.opaque = f.opaque;
  if (f.userhash !== undefined) cred.userhash = f.userhash.toLowerCase() === 'true';
  return { ok: true, value: cred };
}

/** Formats credentials as an Authorization value (RFC 7616 §3.4: which directives are quoted). */
export function formatDigestCredentials(c: DigestCredentials): string {
  const parts: string[] = [];
  // RFC 7616 §3.4.4: a username that is not plain ASCII goes in username* unless hashed
  if (c.userhash !== true && /[^\x20-\x7e]/.test(c.username))
    parts.push(`username*=${encodeExtValue(c.username)}`);
  else parts.push(`username=${quoteString(c.username)}`);
  parts.push(
    `realm=${quoteString(c.realm)}`,
    `nonce=${quoteString(c.nonce)}`,
    `uri=${quoteString(c.uri)}`,
  );
  parts.push(`response=${quoteString(c.response)}`, `algorithm=${c.algorithm}`);
  if (c.cnonce !== undefined) parts.push(`cnonce=${quoteString(c.cnonce)}`);
  if (c.opaque !== undefined) parts.push(`opaque=${quoteString(c.opaque)}`);
  if (c.qop !== undefined) parts.push(`qop=${c.qop}`);
  if (c.nc !== undefined) parts.push(`nc=${c.nc}`);
  if (c.userhash === true) parts.push('userhash=true');
  return `Digest ${parts.join(', ')}`;
}
