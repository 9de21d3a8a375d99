// The top Via of a parsed message is read in place, up to the first comma, with a fast path for
// the common ";branch=...;rport" shape; every shape must give what parseVia gives for that value.
import t from 'tap';
import { parseMessage } from '../../src/message/parse-message.js';
import { parseVia, type Via } from '../../src/message/via.js';
import type { ParseResult } from '../../src/message/errors.js';

const withVia = (via: string, extra: string[] = []): ParseResult =>
  parseMessage(
    Buffer.from(
      [
        'OPTIONS sip:b@example.net SIP/2.0',
        `Via: ${via}`,
        'From: <sip:a@example.com>;tag=ft',
        'To: <sip:b@example.net>',
        'Call-ID: call-1@example.com',
        'CSeq: 1 OPTIONS',
        ...extra,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      'latin1',
    ),
  );

const fields = (v: Via | undefined): unknown =>
  v === undefined
    ? undefined
    : {
        protocol: v.protocol,
        transport: v.transport,
        host: v.host,
        port: v.port,
        branch: v.branch,
        received: v.received,
        rport: v.rport,
        params: [...v.params],
      };

t.test('top Via fields and params equal parseVia of the first value', (t) => {
  const cases = [
    'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa;rport',
    'SIP/2.0/UDP 192.0.2.1;rport=5061;received=198.51.100.7;branch=z9hG4bKb',
    'SIP/2.0/TCP host.example.com;branch=z9hG4bKc;x-flag;ttl=3, SIP/2.0/UDP next.example.com',
    'SIP/2.0/UDP h;branch=z9hG4bKd ,SIP/2.0/UDP next.example.com',
    'SIP/2.0/UDP h;BRANCH=z9hG4bKe;RPort',
    'SIP/2.0/UDP h ; branch = z9hG4bKf ; rport',
    'SIP/2.0/UDP h;branch=z9hG4bKg;x="a,b";rport, SIP/2.0/UDP next',
    'SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKh,SIP/2.0/UDP next',
    'sip / 2.0 / udp H.Example.COM:5070;branch=z9hG4bKi',
  ];
  for (const via of cases) {
    const r = withVia(via);
    t.ok(r.ok, via);
    if (!r.ok) continue;
    const first = r.message.headers.values('Via')[0] ?? '';
    const expected = parseVia(first);
    t.ok(expected.ok, first);
    if (expected.ok) t.same(fields(r.message.topVia), fields(expected.value), via);
  }
  t.end();
});

t.test('a malformed top Via rejects the message whichever path reads it', (t) => {
  const cases = [
    'SIP/2.0/UDP h;branch',
    'SIP/2.0/UDP h;received',
    'SIP/2.0/UDP h;rport=65536',
    'SIP/2.0/UDP h;rport=12a',
    'SIP/2.0/UDP h;branch=',
    'SIP/2.0/UDP h;;rport',
    'SIP/2.0/UDP h;branch=z9hG4bKx"',
    'SIP/2.0/UDP h;x="unterminated',
    'SIP/2.0/UDP [2001:db8::1,x]:5060;branch=z9hG4bKy',
  ];
  for (const via of cases) {
    const r = withVia(via);
    t.equal(r.ok, false, via);
    if (!r.ok) t.equal(r.error.reason, 'bad Via header', via);
  }
  t.end();
});

t.test('an rport-like name that is not rport is an ordinary flag', (t) => {
  const r = withVia('SIP/2.0/UDP h;branch=z9hG4bKz;rpobt');
  t.ok(r.ok);
  if (!r.ok) return t.end();
  t.equal(r.message.topVia?.rport, undefined);
  t.same(
    [...(r.message.topVia?.params ?? [])],
    [
      ['branch', 'z9hG4bKz'],
      ['rpobt', null],
    ],
  );
  t.end();
});

t.test('a repeated single-valued header is still rejected', (t) => {
  const r = withVia('SIP/2.0/UDP h;branch=z9hG4bKr', ['Max-Forwards: 70', 'Max-Forwards: 69']);
  t.equal(r.ok, false);
  if (!r.ok) t.equal(r.error.reason, 'duplicate single-valued header');
  const twice = withVia('SIP/2.0/UDP h;branch=z9hG4bKr', ['i: again@example.com']);
  t.equal(twice.ok, false);
  if (!twice.ok) t.equal(twice.error.reason, 'more than one Call-ID header');
  t.end();
});

t.test('UTF-8 values decode when read, in a message that is not all ASCII', (t) => {
  const r = parseMessage(
    Buffer.from(
      [
        'OPTIONS sip:b@example.net SIP/2.0',
        'Via: SIP/2.0/UDP h;branch=z9hG4bKu',
        'From: "Jürgen Müller" <sip:a@example.com>;tag=ft',
        'To: <sip:b@example.net>',
        'Route: <sip:edge.example.net;lr>',
        'Call-ID: call-1@example.com',
        'CSeq: 1 OPTIONS',
        'Subject: café',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      'utf8',
    ),
  );
  t.ok(r.ok);
  if (!r.ok) return t.end();
  t.equal(r.message.headers.get('Subject'), 'café');
  t.equal(r.message.from.displayName, 'Jürgen Müller');
  t.equal(r.message.routes[0]?.uri, 'sip:edge.example.net;lr');
  t.equal(r.message.callId, 'call-1@example.com');
  t.end();
});
