// The parser's fast path (byte scanning, lazy header classification, lazy body, in-place
// Request-URI/Via/CSeq parsing) must give the same values as the general string-based code.
import t from 'tap';
import { parseMessage } from '../../src/message/parse-message.js';
import { parseUri } from '../../src/message/sip-uri.js';
import { parseVia } from '../../src/message/via.js';
import { parseCSeq, type SipMessage, type SipRequest } from '../../src/message/sip-message.js';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');

const request = (startLine: string, extra: string[] = [], body = ''): Buffer =>
  crlf(
    startLine,
    'v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;rport',
    'max-forwards: 69',
    'ROUTE: <sip:edge.example.net;lr>',
    'f: <sip:a@example.com>;tag=ft',
    't: <sip:b@example.net>',
    'i: call-1@example.com',
    'CSeq: 7 INVITE',
    'X-Custom : kept',
    ...extra,
    `l: ${Buffer.byteLength(body)}`,
    '',
    body,
  );

const parsed = (buf: Buffer): SipMessage => {
  const r = parseMessage(buf);
  if (!r.ok) throw new Error(`parse failed: ${r.error.reason}`);
  return r.message;
};
const req = (m: SipMessage): SipRequest => {
  if (m.kind !== 'request') throw new Error('not a request');
  return m;
};

t.test('compact and odd-case names are routed by id and still listed with canonical names', (t) => {
  const m = parsed(request('INVITE sip:b@example.net SIP/2.0'));
  t.equal(m.topVia?.branch, 'z9hG4bKabc');
  t.equal(m.maxForwards, 69);
  t.equal(m.callId, 'call-1@example.com');
  t.equal(m.fromTag, 'ft');
  t.same(
    m.routes.map((r) => r.uri),
    ['sip:edge.example.net;lr'],
  );
  t.equal(m.headers.get('Via'), 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;rport');
  t.equal(m.headers.get('x-custom'), 'kept', 'an unknown name is classified on first use');
  t.same(
    [...m.headers.entries()].map(([n]) => n),
    ['Via', 'Max-Forwards', 'Route', 'From', 'To', 'Call-ID', 'CSeq', 'X-Custom', 'Content-Length'],
  );
  t.end();
});

t.test('a header name with a CR where a "-" belongs is not taken for Call-ID', (t) => {
  const r = parseMessage(request('OPTIONS sip:b@example.net SIP/2.0', ['Call\rID: x']));
  t.equal(r.ok, false);
  if (!r.ok) t.equal(r.error.reason, 'bad header name');
  t.end();
});

t.test('the Request-URI parsed from the bytes equals parseUri of its text', (t) => {
  for (const uri of [
    'sip:+14155550123@Carrier.Example.NET:5070;User=phone;lr;transport=TCP?subject=x&h=y',
    'sips:[2001:DB8::1]:5061;maddr=192.0.2.9',
    'tel:+1-201-555-0123;ext=12',
    'urn:service:sos',
  ]) {
    const m = req(parsed(request(`INVITE ${uri} SIP/2.0`)));
    const direct = parseUri(uri);
    t.ok(direct.ok, uri);
    if (direct.ok) t.same(m.requestUri, direct.uri, uri);
    m.uri = uri;
    if (direct.ok) t.same(m.requestUri, direct.uri, `${uri} (reparsed after a change)`);
  }
  const bad = parseMessage(request('INVITE sip:a@b@c SIP/2.0'));
  t.equal(bad.ok, false, 'a malformed Request-URI is still rejected');
  t.end();
});

t.test('characters above U+00FF are never mistaken for ASCII by the byte scanners', (t) => {
  // U+4E22's low byte is 0x22 ("), U+4E3B's is 0x3B (;): both must stay ordinary characters
  const via = parseVia('SIP/2.0/UDP h.example.com;x="\u4e22";branch=z9hG4bK1');
  t.ok(via.ok);
  if (via.ok) {
    t.equal(via.value.params.get('x'), '"\u4e22"');
    t.equal(via.value.branch, 'z9hG4bK1');
  }
  t.equal(parseVia('SIP/2.0/UDP h\u4e3bbranch=z9').ok, false);
  t.equal(parseUri('sip:a@h\u4e3blr').ok, false);
  t.equal(parseCSeq('1 INV\u4e49TE'), undefined);
  t.same(parseCSeq('12 BYE'), { seq: 12, method: 'BYE' });
  t.end();
});

t.test('a CSeq method differing from the request method is still detected', (t) => {
  const r = parseMessage(request('INVITX sip:b@example.net SIP/2.0'));
  t.equal(r.ok, false);
  if (!r.ok) t.equal(r.error.reason, 'CSeq method does not match the request method');
  t.end();
});

t.test('the body is a view made on first read; replacing it re-serialises', (t) => {
  const buf = request('INVITE sip:b@example.net SIP/2.0', [], 'v=0\r\n');
  const m = parsed(buf);
  t.same(m.toBuffer(), buf, 'unchanged: the received bytes');
  t.equal(m.body.toString(), 'v=0\r\n');
  t.same(m.toBuffer(), buf, 'reading the body changes nothing');
  m.body = Buffer.from('v=1\r\nx\r\n');
  const again = parsed(m.toBuffer());
  t.equal(again.body.toString(), 'v=1\r\nx\r\n');
  t.equal(again.headers.get('Content-Length'), '8');
  t.equal(m.clone().body.toString(), 'v=1\r\nx\r\n');
  t.end();
});

t.test('changes after parsing keep unchanged lines verbatim and classify names lazily', (t) => {
  const m = parsed(request('INVITE sip:b@example.net SIP/2.0'));
  m.headers.prepend('Via', 'SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp');
  m.maxForwards = 68;
  const text = m.toBuffer().toString('latin1');
  t.match(
    text,
    /^INVITE sip:b@example\.net SIP\/2\.0\r\nVia: SIP\/2\.0\/UDP 192\.0\.2\.10;branch=z9hG4bKp\r\nv: SIP/,
  );
  t.match(text, /\r\nMax-Forwards: 68\r\nROUTE: <sip:edge/);
  t.match(text, /\r\nX-Custom : kept\r\n/);
  const back = parsed(Buffer.from(text, 'latin1'));
  t.equal(back.via.length, 2);
  t.equal(back.maxForwards, 68);
  t.end();
});

t.test('folded routing headers parse as if unfolded', (t) => {
  const m = parsed(
    request('INVITE sip:b@example.net SIP/2.0', [
      'Record-Route: <sip:a.example;lr>,\r\n <sip:b.example;lr>',
    ]),
  );
  t.same(
    m.recordRoutes.map((r) => r.uri),
    ['sip:a.example;lr', 'sip:b.example;lr'],
  );
  t.end();
});
