// Lazily built fields: URI and Via parameter Maps are made from the validated text on first
// access, and plain Route/Record-Route lines are read in place; both must equal the eager results.
import t from 'tap';
import { parseMessage } from '../../src/message/parse-message.js';
import { formatUri, parseUri, type SipUri } from '../../src/message/sip-uri.js';
import { formatVia, parseVia } from '../../src/message/via.js';
import { parseNameAddr } from '../../src/message/name-addr.js';
import { splitValues } from '../../src/message/header-values.js';
import type { SipMessage } from '../../src/message/sip-message.js';

const sipUri = (s: string): SipUri => {
  const r = parseUri(s);
  if (!r.ok || (r.uri.scheme !== 'sip' && r.uri.scheme !== 'sips')) throw new Error(s);
  return r.uri as SipUri;
};

const message = (...headers: string[]): SipMessage => {
  const text = [
    'INVITE sip:b@example.net SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;rport',
    'From: <sip:a@example.com>;tag=ft',
    'To: <sip:b@example.net>',
    'Call-ID: call-1@example.com',
    'CSeq: 1 INVITE',
    ...headers,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const r = parseMessage(Buffer.from(text, 'latin1'));
  if (!r.ok) throw new Error(r.error.reason);
  return r.message;
};

t.test('URI params and headers are built on first access with lower-cased names', (t) => {
  const u = sipUri(
    'sip:alice@Example.COM:5070;Transport=TCP;lr;maddr=10.0.0.1?Subject=hi&to=x%20y',
  );
  t.same(
    [...u.params],
    [
      ['transport', 'TCP'],
      ['lr', null],
      ['maddr', '10.0.0.1'],
    ],
  );
  t.same(
    [...u.headers],
    [
      ['Subject', 'hi'],
      ['to', 'x%20y'],
    ],
  );
  t.equal(u.params, u.params, 'the same Map on every read');
  t.equal(
    formatUri(u),
    'sip:alice@example.com:5070;transport=TCP;lr;maddr=10.0.0.1?Subject=hi&to=x%20y',
  );
  t.end();
});

t.test('assigning URI params or headers replaces the lazy value', (t) => {
  const u = sipUri('sip:example.com;lr?a=b');
  u.params = new Map([['x', '1']]);
  u.headers = new Map();
  t.equal(formatUri(u), 'sip:example.com;x=1');
  t.end();
});

t.test('a spread URI keeps params and headers when they are passed explicitly', (t) => {
  const u = sipUri('sip:+1555@example.com;user=phone?h=v');
  t.equal(
    formatUri({ ...u, params: u.params, headers: u.headers, user: '+1666' }),
    'sip:+1666@example.com;user=phone?h=v',
  );
  t.end();
});

t.test('malformed URI parameters are still rejected while parsing', (t) => {
  t.same(parseUri('sip:example.com;=x'), { ok: false, reason: 'empty URI parameter' });
  t.same(parseUri('sip:example.com;Lr='), {
    ok: false,
    reason: 'empty value for URI parameter "lr"',
  });
  t.same(parseUri('sip:example.com?a'), { ok: false, reason: 'bad URI header' });
  t.end();
});

t.test('Via params are built on first access, quoted values and LWS included', (t) => {
  const r = parseVia(
    'SIP/2.0/UDP h.example.com ; BRANCH = z9hG4bK1 ;x="a;b" ;rport=5062;Received=1.2.3.4;y',
  );
  if (!r.ok) throw new Error(r.reason);
  const v = r.value;
  t.equal(v.branch, 'z9hG4bK1');
  t.equal(v.rport, 5062);
  t.equal(v.received, '1.2.3.4');
  t.same(
    [...v.params],
    [
      ['branch', 'z9hG4bK1'],
      ['x', '"a;b"'],
      ['rport', '5062'],
      ['received', '1.2.3.4'],
      ['y', null],
    ],
  );
  v.params = new Map([['branch', 'old']]);
  t.equal(formatVia(v), 'SIP/2.0/UDP h.example.com;branch=z9hG4bK1;received=1.2.3.4;rport=5062');
  t.end();
});

t.test('the top Via of a parsed message builds its params from the message text', (t) => {
  const m = message();
  t.same(
    [...(m.topVia?.params ?? [])],
    [
      ['branch', 'z9hG4bKabc'],
      ['rport', null],
    ],
  );
  t.same({ ...m.topVia, params: new Map(m.topVia?.params) }.params.get('branch'), 'z9hG4bKabc');
  t.end();
});

t.test('Route values read in place equal parseNameAddr of each value', (t) => {
  const lines = [
    'Route: <sip:edge1.example.net;lr>',
    'Route:   <sip:edge2.example.net;lr>;x=1 ;y',
    'Route: "Edge" <sip:edge3.example.net>',
    'Route: <sip:edge4.example.net>, <sip:edge5.example.net;lr>',
    'Route: <sip:edge6.example.net>;q="a,b"',
    'Route: < sip:edge7.example.net >',
    'Route: <>',
    'Route: <sip:edge8.example.net>;=bad',
    'Record-Route: <sip:rr.example.net;lr>;ftag=1',
  ];
  const m = message(...lines);
  const expected = (name: string): unknown[] =>
    lines
      .filter((l) => l.startsWith(name + ':'))
      .flatMap((l) => splitValues(l.slice(name.length + 1)))
      .map((v) => parseNameAddr(v))
      .filter((r) => r.ok)
      .map((r) =>
        r.ok ? { uri: r.value.uri, d: r.value.displayName, p: [...r.value.params] } : 0,
      );
  const got = (list: SipMessage['routes']): unknown[] =>
    list.map((n) => ({ uri: n.uri, d: n.displayName, p: [...n.params] }));
  t.same(got(m.routes), expected('Route'));
  t.equal(m.routes.length, 7);
  t.same(got(m.recordRoutes), expected('Record-Route'));
  t.equal(m.routes[1]?.params.get('x'), '1');
  t.end();
});

t.test('Route lines changed through the API are parsed from their new text', (t) => {
  const m = message('Route: <sip:old.example.net;lr>');
  t.equal(m.routes[0]?.uri, 'sip:old.example.net;lr');
  m.headers.set('Route', '<sip:new.example.net;lr>');
  t.same(
    m.routes.map((r) => r.uri),
    ['sip:new.example.net;lr'],
  );
  t.end();
});
