/**
 * What a completed server transaction keeps of its request: the request line alone. The headers
 * a response copies from its request (RFC 3261 §8.2.6: Via, From, To, Call-ID, CSeq) are in the
 * response bytes the transaction keeps anyway, so the request is rebuilt from both, and only
 * when someone asks for it.
 */
import { parseMessage } from '../message/parse-message.js';
import { SipRequest } from '../message/sip-message.js';

const COPIED = ['Via', 'From', 'To', 'Call-ID', 'CSeq'] as const;

/** Distinct request lines shared between completed transactions (bounded memory). */
const MAX_SHARED_LINES = 1024;
const sharedLines = new Map<string, string>();

/**
 * `METHOD Request-URI` as a string of its own (a slice would keep the parsed message alive),
 * one string for every transaction with the same line (every REGISTER of a domain has one).
 */
export function requestLine(request: SipRequest): string {
  const line = `${request.method} ${request.uri}`;
  let own = sharedLines.get(line);
  if (own === undefined) {
    own = Buffer.from(line, 'utf8').toString('utf8');
    if (sharedLines.size >= MAX_SHARED_LINES) sharedLines.clear();
    sharedLines.set(own, own);
  }
  return own;
}

/**
 * The request rebuilt from its request line and the response sent to it (To then carries the tag
 * of the response); a bare request of the same method if they no longer parse.
 */
export function restoreRequest(line: string, response: Buffer | undefined): SipRequest {
  const method = line.slice(0, Math.max(line.indexOf(' '), 0));
  const parsed = response === undefined ? undefined : parseMessage(response);
  let head = `${line} SIP/2.0\r\n`;
  if (parsed?.ok === true) {
    for (const name of COPIED) {
      for (const value of parsed.message.headers.getAll(name)) head += `${name}: ${value}\r\n`;
    }
  }
  const r = parseMessage(Buffer.from(`${head}Content-Length: 0\r\n\r\n`, 'utf8'));
  if (r.ok && r.message.kind === 'request') return r.message;
  return new SipRequest(method, '');
}
