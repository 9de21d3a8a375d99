// Loads the byte-exact SIP fixtures under test/fixtures/ and runs the outcome an RFC prescribes for
// one. Files are raw bytes: CRLF, NUL octets and non-UTF-8 values are what the torture tests exercise.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseMessage } from '../../src/message/parse-message.js';
import { validateMessage } from '../../src/message/validate-message.js';
import type { ParseOptions, ParseResult, SipParseError } from '../../src/message/errors.js';
import type { SipMessage } from '../../src/message/sip-message.js';

export type FixtureCorpus = 'rfc4475' | 'rfc5118';

const fixturesDir = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function fixturePath(corpus: FixtureCorpus, name: string): string {
  return `${fixturesDir}${corpus}/${name}.sip`;
}

/** The raw bytes of one fixture, e.g. `loadFixture('rfc4475', 'wsinv')`. */
export function loadFixture(corpus: FixtureCorpus, name: string): Buffer {
  return readFileSync(fixturePath(corpus, name));
}

/** Names (without `.sip`) of every fixture in a corpus, sorted. */
export function listFixtures(corpus: FixtureCorpus): string[] {
  return readdirSync(`${fixturesDir}${corpus}`)
    .filter((f) => f.endsWith('.sip'))
    .map((f) => f.slice(0, -'.sip'.length))
    .sort();
}

/** Every fixture of both corpora, as `{ corpus, name, bytes }`. */
export function allFixtures(): { corpus: FixtureCorpus; name: string; bytes: Buffer }[] {
  const corpora: FixtureCorpus[] = ['rfc4475', 'rfc5118'];
  return corpora.flatMap((corpus) =>
    listFixtures(corpus).map((name) => ({ corpus, name, bytes: loadFixture(corpus, name) })),
  );
}

/** The bytes of every RFC 4475 and RFC 5118 fixture, then of every message of bench/parser/corpus. */
export function parserCorpus(): Buffer[] {
  const bench = fileURLToPath(new URL('../../../../bench/parser/corpus/', import.meta.url));
  const benchFiles = readdirSync(bench).filter((f) => f.endsWith('.sip'));
  return [...allFixtures().map((f) => f.bytes), ...benchFiles.map((f) => readFileSync(bench + f))];
}

/** Offset of the first byte after the CRLFCRLF that ends the header section, or -1. */
export function headerEnd(bytes: Uint8Array): number {
  const i = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf('\r\n\r\n');
  return i < 0 ? -1 : i + 4;
}

// --- expectations shared by the RFC 4475 and RFC 5118 tests ---

/** The assertions the expectation runner needs (a tap Test satisfies it). */
export interface Assert {
  ok(value: unknown, ...message: [] | [string]): boolean;
  notOk(value: unknown, ...message: [] | [string]): boolean;
  equal(found: unknown, wanted: unknown, ...message: [] | [string]): boolean;
  same(found: unknown, wanted: unknown, ...message: [] | [string]): boolean;
  comment(...args: unknown[]): void;
}

export type Check = (t: Assert, m: SipMessage, raw: Buffer) => void;

/** What the RFC prescribes for one message. */
export type Expect =
  /** Well formed: parses (routing and strict mode), and the values are right. */
  | { accept: Check }
  /** Rejected with `reject` as the status; `answerable` = the request the error response is built from. */
  | {
      reject: number;
      code?: SipParseError['code'];
      answerable?: [method: string, branch: string];
      /** Framing and version errors: the routing-mode parse must reject too (no TU could recover). */
      framing?: boolean;
      /** The defect is in the top Via itself: discarding (no status, nothing to answer) is allowed too. */
      orDrop?: boolean;
      /** Outcome on a stream transport (datagram: false). */
      stream?: 'SIP_ERR_INCOMPLETE' | 'SIP_ERR_PARSE';
      also?: (t: Assert, raw: Buffer) => void;
    }
  /** A response to discard: rejected, with nothing to answer. */
  | { drop: true }
  /** The RFC allows either a rejection with one of these statuses or a liberal acceptance that meets `liberal`. */
  | { rejectOr: number | number[]; liberal: Check; also?: (t: Assert, raw: Buffer) => void };

type Reject = Extract<Expect, { reject: number }>;

function parseOrFail(t: Assert, raw: Buffer, options?: ParseOptions): ParseResult | undefined {
  try {
    return parseMessage(raw, options);
  } catch (err) {
    t.ok(false, `parseMessage threw: ${String(err)}`);
    return undefined;
  }
}

/** Serialising a parsed message and parsing it again keeps what routing depends on. */
export function checkRoundTrip(t: Assert, m: SipMessage): void {
  const again = parseMessage(m.toBuffer());
  if (!again.ok) {
    t.ok(false, `serialised message does not parse again: ${again.error.reason}`);
    return;
  }
  const a = again.message;
  const start = (x: SipMessage): string =>
    x.kind === 'request' ? `${x.method} ${x.uri}` : `${x.status} ${x.reason}`;
  t.equal(start(a), start(m), 'round trip: start line');
  t.same(
    [a.callId, a.cseq, a.topVia?.branch, a.via.length],
    [m.callId, m.cseq, m.topVia?.branch, m.via.length],
    'round trip: routing values',
  );
  t.ok(a.body.equals(m.body), 'round trip: body');
}

const describe = (r: ParseResult): string =>
  r.ok ? 'accepted' : `${r.error.code} ${r.error.status ?? '(no status)'}: ${r.error.reason}`;

function checkRejected(t: Assert, r: ParseResult, e: Reject, mode: string): void {
  if (r.ok) {
    t.ok(false, `${mode}: rejected with ${e.reject} (got: accepted)`);
    return;
  }
  if (e.orDrop === true && r.error.status === undefined) {
    t.equal(
      r.error.request,
      undefined,
      `${mode}: discarded, nothing to answer (${r.error.reason})`,
    );
    return;
  }
  t.equal(r.error.status, e.reject, `${mode}: status ${e.reject} (got ${describe(r)})`);
  if (e.code !== undefined) t.equal(r.error.code, e.code, `${mode}: code ${e.code}`);
  if (e.answerable !== undefined) {
    const q = r.error.request;
    t.same(
      [q?.method, q?.topVia?.branch],
      e.answerable,
      `${mode}: best-effort request to answer from (start line, top Via)`,
    );
  }
}

function runReject(
  t: Assert,
  raw: Buffer,
  strict: ParseResult,
  routing: ParseResult,
  e: Reject,
): void {
  checkRejected(t, strict, e, 'strict');
  if (routing.ok && e.framing !== true) {
    // Routing mode may leave deep validation to the TU: the TU must then see the defect.
    const v = validateMessage(routing.message);
    t.notOk(
      v.ok,
      `routing mode accepted it: validateMessage must flag it for the TU${v.ok ? '' : ` (${v.reason})`}`,
    );
  } else {
    checkRejected(t, routing, e, 'routing');
  }
  if (e.stream !== undefined) {
    const s = parseOrFail(t, raw, { datagram: false });
    t.equal(s?.ok === false ? s.error.code : 'accepted', e.stream, `stream transport: ${e.stream}`);
  }
  e.also?.(t, raw);
}

function runRejectOr(
  t: Assert,
  raw: Buffer,
  r: ParseResult,
  e: Extract<Expect, { rejectOr: unknown }>,
  mode: string,
): void {
  if (r.ok) {
    t.comment(`${mode}: accepted liberally; checking the liberal reading`);
    e.liberal(t, r.message, raw);
    checkRoundTrip(t, r.message);
    return;
  }
  const allowed = Array.isArray(e.rejectOr) ? e.rejectOr : [e.rejectOr];
  t.ok(
    allowed.includes(r.error.status ?? -1),
    `${mode}: rejected with ${allowed.join(' or ')} (got ${describe(r)})`,
  );
}

/**
 * Parses `raw` as one datagram, in routing mode (the default) and in strict mode, and asserts the
 * expectation for both.
 */
export function runExpectation(t: Assert, raw: Buffer, e: Expect): void {
  const routing = parseOrFail(t, raw);
  const strict = parseOrFail(t, raw, { strict: true });
  if (routing === undefined || strict === undefined) return;
  if ('accept' in e) {
    t.ok(routing.ok, `routing mode: accepted (got ${describe(routing)})`);
    t.ok(strict.ok, `strict mode: accepted (got ${describe(strict)})`);
    if (routing.ok) {
      e.accept(t, routing.message, raw);
      checkRoundTrip(t, routing.message);
    }
  } else if ('reject' in e) {
    runReject(t, raw, strict, routing, e);
  } else if ('drop' in e) {
    for (const [mode, r] of [
      ['routing', routing],
      ['strict', strict],
    ] as const) {
      t.notOk(r.ok, `${mode}: not accepted`);
      if (!r.ok)
        t.equal(
          r.error.request,
          undefined,
          `${mode}: nothing to answer (a response is never answered)`,
        );
    }
  } else {
    runRejectOr(t, raw, routing, e, 'routing');
    runRejectOr(t, raw, strict, e, 'strict');
    e.also?.(t, raw);
  }
}

/** True when `actual` is `bytes` read as UTF-8 or as Latin-1 (how a parser may hold raw octets). */
export function sameText(actual: string | null | undefined, bytes: Buffer): boolean {
  if (typeof actual !== 'string') return false;
  return Buffer.from(actual, 'utf8').equals(bytes) || Buffer.from(actual, 'latin1').equals(bytes);
}

/** Decodes % HEX HEX escapes to the octets they encode (one char per octet). */
export function pct(s: string): string {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Collapses LWS (including folding) to single spaces and trims. */
export function ws(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
