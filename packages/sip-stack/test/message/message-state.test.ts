// The per-message state behind SipRequest/SipResponse: when the received bytes are written back
// verbatim, the routing caches after edits, the position-table keys of SipHeaders, and the
// public shape of the message objects (their state is kept out of their own enumerable keys).
import t from 'tap';
import { parseMessage, parseMessageGeneral } from '../../src/message/parse-message.js';
import type { ParseResult } from '../../src/message/errors.js';
import {
  SipMessageBase,
  SipRequest,
  SipResponse,
  type SipMessage,
} from '../../src/message/sip-message.js';
import { SipHeaders } from '../../src/message/sip-headers.js';
import { keyId, keyStart, lineKey } from '../../src/message/header-lines.js';
import { HeaderId } from '../../src/message/header-names.js';

// (Content-Length "0004": a re-serialisation writes "4", so the two outputs differ)
const RAW = [
  'INVITE sip:bob@example.net SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1',
  'Max-Forwards: 70',
  'From: <sip:alice@example.com>;tag=a1',
  'To: <sip:bob@example.net>',
  'Call-ID: c1@example.com',
  'CSeq: 1 INVITE',
  'Content-Length: 0004',
  '',
  'body',
].join('\r\n');
const RESPONSE = RAW.replace('INVITE sip:bob@example.net SIP/2.0', 'SIP/2.0 200 OK');

const PARSERS: [string, (b: Buffer) => ParseResult][] = [
  ['fast path', (b) => parseMessage(b)],
  ['general parser', (b) => parseMessageGeneral(b)],
];

function parsed(parse: (b: Buffer) => ParseResult, raw: string): SipMessage {
  const r = parse(Buffer.from(raw, 'latin1'));
  if (!r.ok) throw new Error(r.error.reason);
  return r.message;
}

const verbatim = (m: SipMessage, raw: string): boolean => m.toBuffer().toString('latin1') === raw;

for (const [name, parse] of PARSERS) {
  t.test(`${name}: the received bytes are written back while nothing changed`, (t) => {
    const m = parsed(parse, RAW);
    t.ok(verbatim(m, RAW), 'unchanged');
    t.equal(m.body.toString(), 'body');
    t.ok(verbatim(m, RAW), 'after the body was read');
    const body = m.body;
    m.body = body;
    t.ok(verbatim(m, RAW), 'the body set to itself');
    t.ok(verbatim(parsed(parse, '\r\n' + RAW), RAW), 'leading CRLFs are not part of the message');
    t.end();
  });

  t.test(`${name}: a replaced body, start line or header set is re-serialised`, (t) => {
    const cl4 = RAW.replace('Content-Length: 0004', 'Content-Length: 4');
    const copy = parsed(parse, RAW);
    copy.body = Buffer.from('body');
    t.equal(copy.toBuffer().toString('latin1'), cl4, 'an equal copy of the body');
    // (a re-serialisation sets Content-Length in the headers: each case on a fresh message)
    const other = parsed(parse, RAW);
    other.body = Buffer.from('other');
    t.notOk(verbatim(other, RAW), 'another body');
    const back = parsed(parse, RAW);
    const view = back.body;
    back.body = Buffer.from('other');
    back.body = view;
    t.ok(verbatim(back, RAW), 'the received body set back');

    const method = parsed(parse, RAW) as SipRequest;
    method.method = 'OPTIONS';
    t.match(method.toBuffer().toString('latin1'), /^OPTIONS sip:bob@example\.net SIP\/2\.0\r\n/);
    const req = parsed(parse, RAW) as SipRequest;
    req.method = 'OPTIONS';
    req.method = 'INVITE';
    t.ok(verbatim(req, RAW), 'the method set back');
    req.uri = 'sip:carol@example.net';
    t.match(req.toBuffer().toString('latin1'), /^INVITE sip:carol@example\.net SIP\/2\.0\r\n/);

    const swapped = parsed(parse, RAW);
    const own = swapped.headers;
    swapped.headers = own.clone();
    t.equal(swapped.toBuffer().toString('latin1'), cl4, 'a cloned header set');
    swapped.headers = own;
    t.ok(verbatim(swapped, RAW), 'the received header set back');

    const edited = parsed(parse, RAW);
    edited.headers.set('X-Mark', '1');
    edited.headers.delete('X-Mark');
    t.equal(edited.toBuffer().toString('latin1'), cl4, 'a header edit, even undone');

    const res = parsed(parse, RESPONSE) as SipResponse;
    t.ok(verbatim(res, RESPONSE));
    res.reason = 'Fine';
    t.match(res.toBuffer().toString('latin1'), /^SIP\/2\.0 200 Fine\r\n/);
    t.end();
  });

  t.test(`${name}: routing values and the rarely read ones follow header edits`, (t) => {
    const m = parsed(parse, RAW);
    t.equal(m.toTag, undefined);
    t.equal(m.to.uri, 'sip:bob@example.net');
    m.headers.set('To', '<sip:bob@example.net>;tag=b2');
    t.equal(m.toTag, 'b2', 'To tag after the edit');
    t.equal(m.to.params.get('tag'), 'b2');
    t.equal(m.fromTag, 'a1');
    t.equal(m.from.uri, 'sip:alice@example.com');
    m.headers.set('From', '<sip:carol@example.com>;tag=c3');
    t.equal(m.fromTag, 'c3');
    t.equal(m.via.length, 1);
    m.headers.append('Via', 'SIP/2.0/TCP 192.0.2.2;branch=z9hG4bK2');
    t.equal(m.via.length, 2);
    t.equal(m.topVia?.branch, 'z9hG4bK1');
    m.headers.set('Call-ID', 'c2');
    t.equal(m.callId, 'c2', 'a line changed in place is still found by its id');
    t.equal(m.maxForwards, 70);
    m.headers.shiftValue('Max-Forwards');
    t.equal(m.maxForwards, undefined);
    t.end();
  });

  t.test(`${name}: parsed messages have the same own keys as constructed ones`, (t) => {
    const req = parsed(parse, RAW);
    t.same(Object.keys(req), ['headers', 'kind', 'method']);
    t.same(Object.keys(parsed(parse, RESPONSE)), ['headers', 'kind', 'status', 'reason']);
    t.same(JSON.parse(JSON.stringify(req)), { headers: {}, kind: 'request', method: 'INVITE' });
    t.end();
  });
}

t.test('SipRequest and SipResponse are SipMessageBase with their own keys only', (t) => {
  const req = new SipRequest('OPTIONS', 'sip:a@b');
  const res = new SipResponse(486, 'Busy Here', new SipHeaders([['Call-ID', 'x']]));
  t.ok(req instanceof SipMessageBase);
  t.ok(res instanceof SipMessageBase);
  t.same(Object.keys(req), ['headers', 'kind', 'method']);
  t.same(Object.keys(res), ['headers', 'kind', 'status', 'reason']);
  t.equal(req.body.length, 0);
  t.equal(res.callId, 'x');
  t.equal(
    new SipRequest('MESSAGE', 'sip:a@b', undefined, Buffer.from('hi')).toString(),
    'MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 2\r\n\r\nhi',
  );
  t.end();
});

t.test('position-table keys keep the line start and HeaderId for any offset', (t) => {
  for (const start of [0, 7, 2 ** 27 - 1, 2 ** 27, 2 ** 27 + 5, 2 ** 29 - 1, 2 ** 32 + 3, -1]) {
    for (const id of [HeaderId.other, HeaderId.via, HeaderId.contact, 15 as HeaderId]) {
      const key = lineKey(start, id);
      if (keyStart(key) !== start || keyId(key) !== id) t.fail(`start ${start}, id ${id}`);
      t.equal(key < 0, start < 0, `sign of ${start}`);
    }
  }
  t.end();
});
