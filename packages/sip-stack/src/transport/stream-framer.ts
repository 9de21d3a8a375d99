/**
 * Cuts a TCP/TLS byte stream into SIP messages (RFC 3261 §18.3): the header block ends at the
 * first empty line, the body is exactly Content-Length bytes. Memory per connection is bounded by
 * the message size limit. Never throws on input.
 */

export type FramingErrorKind = 'bad-framing' | 'too-large';

export interface StreamFramerHandler {
  /** One complete message (header block and body), a view of the received bytes. */
  onMessage(bytes: Buffer): void;
  /** RFC 5626 §3.5.1: a double-CRLF keep-alive ping arrived between messages. */
  onPing(): void;
  /**
   * The stream cannot be framed any further. For 'too-large' the complete header block is
   * given so the caller can answer 513. The framer is stopped when this is called.
   */
  onError(kind: FramingErrorKind, reason: string, head?: Buffer): void;
}

const CR = 13;
const LF = 10;
const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');

export type ContentLengthResult =
  { ok: true; length: number } | { ok: false; reason: 'missing' | 'invalid' };

const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');

function isWs(c: number | undefined): boolean {
  return c === 32 || c === 9;
}

/** Index just after "name WS* :" when the line [i, end) names Content-Length or `l`; else -1. */
function contentLengthValueStart(head: Buffer, i: number, end: number): number {
  let j = i;
  if (((head[j] ?? 0) | 0x20) === 0x6c && (isWs(head[j + 1]) || head[j + 1] === 58)) {
    j += 1; // compact form `l` (RFC 3261 §7.3.3)
  } else {
    if (end - i < CONTENT_LENGTH.length) return -1;
    for (let k = 0; k < CONTENT_LENGTH.length; k++) {
      const c = head[i + k] ?? 0;
      if ((c >= 65 && c <= 90 ? c | 0x20 : c) !== CONTENT_LENGTH[k]) return -1;
    }
    j += CONTENT_LENGTH.length;
  }
  while (j < end && isWs(head[j])) j++;
  return head[j] === 58 ? j + 1 : -1;
}

/** End of the line starting at `i` (index of its CR, or LF, or the buffer end) and the next line start. */
function lineBounds(head: Buffer, i: number): [end: number, next: number] {
  const lf = head.indexOf(LF, i);
  if (lf < 0) return [head.length, head.length];
  return [lf > i && head[lf - 1] === CR ? lf - 1 : lf, lf + 1];
}

/**
 * Content-Length (or compact `l`, RFC 3261 §7.3.3) of a header block, without the final empty
 * line. Folded values are joined; repeated headers must agree. Scans bytes; only the
 * Content-Length line is decoded.
 */
export function readContentLength(head: Buffer): ContentLengthResult {
  let found: number | undefined;
  let [, i] = lineBounds(head, 0); // skip the start line
  while (i < head.length) {
    const [end, next] = lineBounds(head, i);
    const valueStart = contentLengthValueStart(head, i, end);
    if (valueStart < 0) {
      i = next;
      continue;
    }
    let value = head.toString('latin1', valueStart, end);
    i = next;
    // RFC 3261 §7.3.1: a line starting with whitespace continues the previous header.
    while (i < head.length && isWs(head[i])) {
      const [e2, n2] = lineBounds(head, i);
      value += ' ' + head.toString('latin1', i, e2);
      i = n2;
    }
    value = value.trim();
    if (!/^[0-9]{1,15}$/.test(value)) return { ok: false, reason: 'invalid' };
    const n = Number(value);
    if (found !== undefined && found !== n) return { ok: false, reason: 'invalid' };
    found = n;
  }
  return found === undefined ? { ok: false, reason: 'missing' } : { ok: true, length: found };
}

export class StreamFramer {
  readonly #handler: StreamFramerHandler;
  readonly #maxMessageSize: number;
  #buf: Buffer | undefined;
  #scanFrom = 0;
  #expected: number | undefined;
  #pendingCrlf = false;
  #stopped = false;

  constructor(handler: StreamFramerHandler, maxMessageSize: number) {
    this.#handler = handler;
    this.#maxMessageSize = maxMessageSize;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.#buf?.length ?? 0;
  }

  stop(): void {
    this.#stopped = true;
    this.#buf = undefined;
  }

  push(chunk: Buffer): void {
    if (this.#stopped || chunk.length === 0) return;
    this.#buf =
      this.#buf === undefined || this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    while (!this.#stopped && this.#buf !== undefined && this.#buf.length > 0) {
      if (this.#expected === undefined && !this.#readHead()) return;
      const expected = this.#expected;
      const buf: Buffer | undefined = this.#buf;
      if (expected === undefined || buf === undefined || buf.length < expected) return;
      const message = buf.subarray(0, expected);
      this.#buf = buf.length === expected ? undefined : buf.subarray(expected);
      this.#expected = undefined;
      this.#scanFrom = 0;
      this.#handler.onMessage(message);
    }
  }

  /** Skips keep-alives, then frames the next header block. False when more bytes are needed. */
  #readHead(): boolean {
    if (!this.#skipCrlf()) return false;
    const buf: Buffer | undefined = this.#buf;
    if (buf === undefined || buf.length === 0) return false;
    const end = buf.indexOf(HEADER_END, Math.max(0, this.#scanFrom - 3));
    if (end < 0) {
      // RFC 3261 §18.3: a header block that never ends within the limit cannot be framed.
      if (buf.length > this.#maxMessageSize)
        this.#fail('bad-framing', 'header block over the size limit');
      this.#scanFrom = buf.length;
      return false;
    }
    const headLength = end + 4;
    if (headLength > this.#maxMessageSize) {
      this.#fail('bad-framing', 'header block over the size limit');
      return false;
    }
    const cl = readContentLength(buf.subarray(0, end));
    if (!cl.ok) {
      // RFC 3261 §18.3: Content-Length MUST be used with stream-oriented transports.
      this.#fail(
        'bad-framing',
        cl.reason === 'missing' ? 'missing Content-Length' : 'invalid Content-Length',
      );
      return false;
    }
    if (headLength + cl.length > this.#maxMessageSize) {
      this.#fail(
        'too-large',
        `message of ${headLength + cl.length} bytes over the limit`,
        buf.subarray(0, headLength),
      );
      return false;
    }
    this.#expected = headLength + cl.length;
    return true;
  }

  /** RFC 3261 §7.5 ignore CRLF before a start line; RFC 5626 §3.5.1 CRLFCRLF is a ping. */
  #skipCrlf(): boolean {
    let buf = this.#buf;
    while (buf !== undefined && buf.length >= 1 && buf[0] === CR) {
      if (buf.length < 2) return false;
      if (buf[1] !== LF) break;
      if (this.#pendingCrlf) {
        this.#pendingCrlf = false;
        this.#handler.onPing();
        buf = buf.subarray(2);
      } else if (buf.length >= 4 && buf[2] === CR && buf[3] === LF) {
        this.#handler.onPing();
        buf = buf.subarray(4);
      } else if (buf.length >= 3 && buf[2] !== CR) {
        buf = buf.subarray(2); // a lone CRLF (a pong, or noise) before a message
      } else {
        this.#pendingCrlf = true;
        buf = buf.subarray(2);
      }
      if (this.#stopped) return false;
    }
    this.#buf = buf;
    if (buf !== undefined && buf.length > 0) this.#pendingCrlf = false;
    return true;
  }

  #fail(kind: FramingErrorKind, reason: string, head?: Buffer): void {
    this.#stopped = true;
    this.#buf = undefined;
    this.#handler.onError(kind, reason, head);
  }
}
