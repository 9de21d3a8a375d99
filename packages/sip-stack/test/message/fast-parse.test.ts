// parseMessage's fast path (fast-parse.ts) must give exactly what the general parser gives: the
// same values from every public accessor, the same serialisation before and after a proxy's
// edits, the same errors; and it must hand every message outside its shape to the general parser.
import t, { type Test } from 'tap';
import { parseMessage, parseMessageGeneral } from '../../src/message/parse-message.js';
import { fastParse } from '../../src/message/fast-parse.js';
import type { ParseOptions, ParseResult } from '../../src/message/errors.js';
import type { NameAddr } from '../../src/message/name-addr.js';
import type { Via } from '../../src/message/via.js';
import type { Uri } from '../../src/message/sip-uri.js';
import type { SipMessage } from '../../src/message/sip-message.js';
import { createRng, mutate } from '../../../../bench/parser/mutate.mjs';
import { parserCorpus } from '../support/fixtures.js';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');

const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n';

/** A message in the fast path's shape, with `edit` applied to its header lines. */
const invite = (edit: (lines: string[]) => string[] = (l) => l, body = SDP): Buffer =>
  crlf(
    'INVITE sip:+14155550123@carrier.example.net;user=phone SIP/2.0',
    ...edit([
      'Via: SIP/2.0/UDP 198.51.100.23:5060;branch=z9hG4bK776asdhds;rport',
      'Max-Forwards: 70',
      'Route: <sip:edge1.example.net;lr>',
      'From: "Alice" <sip:alice@example.com>;tag=1928301774',
      'To: <sip:+14155550123@carrier.example.net;user=phone>',
      'Call-ID: a84b4c76e66710@pc33.example.com',
      'CSeq: 314159 INVITE',
      'Contact: <sip:alice@198.51.100.23:5060;transport=udp>',
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(body)}`,
    ]),
    '',
    body,
  );

const entries = (m: Map<string, string | null> | undefined): unknown =>
  m === undefined ? null : [...m.entries()];
const uri = (u: Uri): unknown => ({
  ...u,
  params: 'params' in u ? entries(u.params) : null,
  headers: 'headers' in u ? entries(u.headers) : null,
});
const nameAddr = (v: NameAddr): unknown => ({
  d: v.displayName,
  uri: v.uri,
  params: entries(v.params),
  tag: v.tag,
});
const via = (v: Via | undefined): unknown => v && { ...v, params: entries(v.params) };

/** Everything a caller can read from a result, then the serialisations after a proxy's edits. */
function view(r: ParseResult): string {
  if (!r.ok) {
    const { code, reason, status, request } = r.error;
    return JSON.stringify({ code, reason, status, request: request && view(ok(request)) });
  }
  const m = r.message;
  const h = m.headers;
  const out = {
    start: m.startLine(),
    top: via(m.topVia),
    vias: m.via.map(via),
    callId: m.callId,
    cseq: m.cseq,
    tags: [m.fromTag, m.toTag],
    from: nameAddr(m.from),
    to: nameAddr(m.to),
    mf: m.maxForwards,
    contacts: m.contacts.map(nameAddr),
    routes: m.routes.map(nameAddr),
    routeUris: m.routeUris.map(uri),
    rr: m.recordRoutes.map(nameAddr),
    ruri: m.kind === 'request' ? uri(m.requestUri) : null,
    body: m.body.toString('latin1'),
    headers: [...h.entries()],
    gets: ['via', 'v', 'Call-ID', 'Content-Type', 'Route'].map((n) => [h.get(n), h.values(n)]),
    wire: m.toBuffer().toString('latin1'),
    keys: Object.keys(m),
    rewire: '',
    fwd: '',
  };
  // the body set back to itself keeps the received bytes; a copy of it does not
  const received = m.body;
  m.body = received;
  const rewire = m.toBuffer().toString('latin1');
  m.body = Buffer.from(m.body);
  out.rewire = rewire + m.toBuffer().toString('latin1');
  if (m.kind === 'request') {
    h.prepend('Via', 'SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKproxy');
    m.maxForwards = (m.maxForwards ?? 70) - 1;
  } else h.shiftValue('Via');
  out.fwd = m.toBuffer().toString('latin1');
  return JSON.stringify(out);
}
const ok = (message: SipMessage): ParseResult => ({ ok: true, message });

const MODES: (ParseOptions | undefined)[] = [undefined, { datagram: false }, { maxSize: 400 }];

/** Asserts parseMessage and the general parser agree on `buf` in every mode. */
function same(t: Test, buf: Buffer, what: string): void {
  for (const mode of MODES) {
    const fast = view(parseMessage(buf, mode));
    const general = view(parseMessageGeneral(buf, mode));
    if (fast !== general) t.equal(fast, general, `${what} ${JSON.stringify(mode)}`);
  }
}

const takesFastPath = (buf: Buffer, datagram = true): boolean =>
  fastParse(buf, buf.toString('latin1'), datagram) !== undefined;

t.test('a canonical INVITE with SDP takes the fast path and reads like the general parse', (t) => {
  const buf = invite();
  t.ok(takesFastPath(buf));
  const r = parseMessage(buf);
  t.ok(r.ok);
  if (r.ok) {
    t.equal(r.message.topVia?.branch, 'z9hG4bK776asdhds');
    t.equal(r.message.toBuffer().toString('latin1'), buf.toString('latin1'));
  }
  same(t, buf, 'canonical');
  t.end();
});

t.test('a canonical response takes the fast path and reads like the general parse', (t) => {
  const buf = crlf(
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp1',
    'Via: SIP/2.0/UDP 198.51.100.23:5060;branch=z9hG4bK776;received=198.51.100.23;rport=5060',
    'From: <sip:alice@example.com>;tag=1',
    'To: <sip:bob@example.net>;tag=2',
    'Call-ID: c1',
    'CSeq: 1 INVITE',
    'Record-Route: <sip:p1.example.net;lr>, <sip:p2.example.net;lr>',
    'Content-Length: 0',
    '',
    '',
  );
  t.ok(takesFastPath(buf));
  same(t, buf, 'response');
  t.end();
});

/** Header-section variants outside the fast path's shape: each goes to the general parser. */
const DECLINED: [string, Buffer][] = [
  ['a folded line', invite((l) => [...l.slice(0, 5), 'Subject: a', ' b', ...l.slice(5)])],
  ['space before the colon', invite((l) => ['X-A : b', ...l])],
  ['a bare LF in a value', invite((l) => ['X-A: b\nc', ...l])],
  ['a duplicated CSeq', invite((l) => [...l, 'CSeq: 314159 INVITE'])],
  ['a duplicated Content-Length', invite((l) => ['Content-Length: 0', ...l])],
  ['a missing Content-Length', invite((l) => l.slice(0, -1))],
  ['a missing To', invite((l) => l.filter((x) => !x.startsWith('To:')))],
  ['a missing Via', invite((l) => l.slice(1))],
  ['a bad top Via', invite((l) => ['Via: SIP/2.0/UDP', ...l.slice(1)])],
  [
    'Max-Forwards over 255',
    invite((l) => l.map((x) => x.replace('Max-Forwards: 70', 'Max-Forwards: 256'))),
  ],
  ['a CSeq method that differs', invite((l) => l.map((x) => x.replace('314159 INVITE', '1 BYE')))],
  ['an empty Call-ID', invite((l) => l.map((x) => (x.startsWith('Call-ID') ? 'Call-ID: ' : x)))],
  ['a UTF-8 display name', invite((l) => l.map((x) => x.replace('"Alice"', '"Alicé"')))],
  ['a Content-Length over the body', invite((l) => [...l.slice(0, -1), 'Content-Length: 999'])],
  ['an empty header name', invite((l) => [':x', ...l])],
  ['a continuation after the start line', invite((l) => [' x', ...l])],
];

t.test('messages outside the fast path are handed to the general parser unchanged', (t) => {
  for (const [what, buf] of DECLINED) {
    t.notOk(takesFastPath(buf), what);
    same(t, buf, what);
  }
  const lead = Buffer.concat([Buffer.from('\r\n'), invite()]);
  t.notOk(takesFastPath(lead), 'CRLF before the start line');
  same(t, lead, 'CRLF before the start line');
  const extra = Buffer.concat([invite(), Buffer.from('junk')]);
  t.ok(takesFastPath(extra, true), 'a datagram with bytes after the body');
  t.notOk(takesFastPath(extra, false), 'a stream with bytes after the body');
  same(t, extra, 'bytes after the body');
  t.end();
});

t.test('compact names, odd case and a bad Request-URI agree with the general parser', (t) => {
  const compact = invite((l) => l.map((x) => x.replace(/^Via:/, 'v:').replace(/^CSeq:/, 'cseq:')));
  t.ok(takesFastPath(compact));
  same(t, compact, 'compact names');
  const badUri = crlf(...invite().toString('latin1').replace('sip:+1415', 'sip:@x').split('\r\n'));
  t.notOk(takesFastPath(badUri));
  same(t, badUri, 'bad Request-URI');
  t.end();
});

t.test('one- and two-byte names, in any case, agree with the general parser', (t) => {
  // (the fast scan reads a name's first two bytes in one step, then byte by byte)
  const names: [string, string][] = [
    ['Via:', 'v:'],
    ['Via:', 'V:'],
    ['To:', 't:'],
    ['To:', 'TO:'],
    ['To:', 'tO:'],
    ['Call-ID:', 'i:'],
    ['From:', 'f:'],
    ['Contact:', 'm:'],
    ['Content-Type:', 'c:'],
    ['Content-Type:', 'Xy:'],
    ['Content-Type:', 'X:'],
    ['Content-Type:', 'x-:'],
  ];
  for (const [from, to] of names) {
    const buf = invite((l) => l.map((x) => (x.startsWith(from) ? to + x.slice(from.length) : x)));
    t.ok(takesFastPath(buf), to);
    same(t, buf, to);
  }
  t.end();
});

t.test('request lines in other shapes agree with the general parser', (t) => {
  const line = (l: string): Buffer =>
    crlf(l, ...invite().toString('latin1').split('\r\n').slice(1));
  const variants: [string, boolean][] = [
    ['INVITE sip:+14155550123@carrier.example.net;user=phone SIP/2.0', true],
    // (any case of the version is SIP/2.0: parseStartLine reads it when the fast line does not)
    ['INVITE sip:+14155550123@carrier.example.net;user=phone sip/2.0', true],
    ['INVITE sip:+14155550123@carrier.example.net;user=phone SIP/2.1', false],
    ['INVITE sip:a b@carrier.example.net SIP/2.0', false],
    ['INVITE  sip:bob@example.net SIP/2.0', false],
    ['INVITE sip:bob@example.net  SIP/2.0', false],
    ['INV@TE sip:bob@example.net SIP/2.0', false],
    ['INVITE\tsip:bob@example.net SIP/2.0', false],
    ['INVITE SIP/2.0', false],
    ['SIP/2.0 sip:bob@example.net SIP/2.0', false],
  ];
  for (const [l, fast] of variants) {
    const buf = line(l);
    t.equal(takesFastPath(buf), fast, `${l}: fast path ${fast}`);
    same(t, buf, l);
  }
  t.end();
});

const corpus = parserCorpus();

t.test('every RFC 4475 / RFC 5118 / corpus message parses the same on both paths', (t) => {
  t.ok(corpus.length > 60);
  let fast = 0;
  for (const buf of corpus) {
    if (takesFastPath(buf)) fast++;
    same(t, buf, buf.toString('latin1').slice(0, 40));
  }
  t.ok(fast > 20, `${fast} fixtures took the fast path`);
  t.end();
});

t.test('3,000 mutated messages parse the same on both paths', (t) => {
  const rng = createRng(0xfa57);
  let fast = 0;
  for (let i = 0; i < 3000; i++) {
    const buf = mutate(rng, corpus);
    if (buf.length <= 4096 && takesFastPath(buf)) fast++;
    same(t, buf, `mutant ${i}: ${JSON.stringify(buf.toString('latin1').slice(0, 60))}`);
  }
  // (the comparison means something only if mutants reach the fast path)
  t.ok(fast > 50, `${fast} mutants took the fast path`);
  t.end();
});
