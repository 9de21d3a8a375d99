import t from 'tap';
import { parseMessage } from '../../src/message/parse-message.js';
import type { SipMessage, SipRequest } from '../../src/message/sip-message.js';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');
const SDP =
  'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

const invite = (extra: string[] = [], body = SDP): Buffer =>
  crlf(
    'INVITE sip:bob@biloxi.example.com;transport=udp SIP/2.0',
    'Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport',
    'Via: SIP/2.0/TCP 192.0.2.10;branch=z9hG4bKnashds8;received=192.0.2.10',
    'Max-Forwards: 70',
    'Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>',
    'Route: <sip:p3.example.com;lr>',
    'Record-Route: <sip:rr.example.com;lr>',
    'To: Bob <sip:bob@biloxi.example.com>',
    'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    'CSeq: 314159 INVITE',
    'Contact: <sip:alice@pc33.atlanta.example.com>;expires=60, sip:alt@192.0.2.2;q=0.5',
    ...extra,
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  );

const ok = (_t: unknown, buf: Buffer, opts?: Parameters<typeof parseMessage>[1]): SipMessage => {
  const r = parseMessage(buf, opts);
  if (!r.ok) throw new Error(`parse failed: ${r.error.code} ${r.error.reason}`);
  return r.message;
};
const asReq = (m: SipMessage): SipRequest => {
  if (m.kind !== 'request') throw new Error('not a request');
  return m;
};

t.test('parseMessage: an INVITE exposes every routing accessor', (t) => {
  const m = asReq(ok(t, invite()));
  t.equal(m.kind, 'request');
  t.equal(m.method, 'INVITE');
  t.equal(m.uri, 'sip:bob@biloxi.example.com;transport=udp');
  t.equal(m.requestUri.scheme, 'sip');
  t.same(
    m.via.map((v) => [v.transport, v.host, v.branch]),
    [
      ['UDP', 'pc33.atlanta.example.com', 'z9hG4bK776asdhds'],
      ['TCP', '192.0.2.10', 'z9hG4bKnashds8'],
    ],
  );
  t.equal(m.topVia?.rport, null);
  t.equal(m.maxForwards, 70);
  t.same(
    m.routes.map((r) => r.uri),
    ['sip:p1.example.com;lr', 'sip:p2.example.com;lr', 'sip:p3.example.com;lr'],
  );
  t.same(
    m.recordRoutes.map((r) => r.uri),
    ['sip:rr.example.com;lr'],
  );
  t.equal(m.to.displayName, 'Bob');
  t.equal(m.toTag, undefined);
  t.equal(m.from.uri, 'sip:alice@atlanta.example.com');
  t.equal(m.fromTag, '1928301774');
  t.equal(m.callId, 'a84b4c76e66710@pc33.atlanta.example.com');
  t.same(m.cseq, { seq: 314159, method: 'INVITE' });
  t.same(
    m.contacts.map((c) => [c.uri, c.expires, c.q]),
    [
      ['sip:alice@pc33.atlanta.example.com', 60, undefined],
      ['sip:alt@192.0.2.2', undefined, 0.5],
    ],
  );
  t.equal(m.body.toString('latin1'), SDP);
  t.end();
});

t.test('parseMessage: a response exposes status, reason and the same accessors', (t) => {
  const m = ok(
    t,
    crlf(
      'SIP/2.0 180 Ringing Now',
      'v: SIP/2.0/UDP h;branch=z9hG4bK1',
      'f: <sip:a@b>;tag=1',
      't: <sip:c@d>;tag=2',
      'i: cid',
      'CSeq: 1 INVITE',
      'l: 0',
      '',
      '',
    ),
  );
  if (m.kind !== 'response') throw new Error('not a response');
  t.equal(m.status, 180);
  t.equal(m.reason, 'Ringing Now');
  t.equal(m.toTag, '2');
  t.equal(m.callId, 'cid');
  t.end();
});

t.test('parseMessage: compact forms and case-insensitive names (RFC 3261 §7.3.3)', (t) => {
  const m = ok(
    t,
    crlf(
      'OPTIONS sip:x@y SIP/2.0',
      'v: SIP/2.0/UDP h;branch=z9hG4bK1',
      'MAX-FORWARDS: 5',
      'f: <sip:a@b>;tag=1',
      'T: <sip:c@d>',
      'i: cid@h',
      'cseq: 2 OPTIONS',
      'm: <sip:a@h>',
      'l: 0',
      '',
      '',
    ),
  );
  t.equal(m.maxForwards, 5);
  t.equal(m.headers.get('Call-ID'), 'cid@h');
  t.equal(m.contacts.length, 1);
  t.equal(m.cseq.seq, 2);
  t.end();
});

t.test('parseMessage: folded header lines are unfolded to one SP (RFC 3261 §7.3.1)', (t) => {
  const m = ok(
    t,
    crlf(
      'OPTIONS sip:x@y SIP/2.0',
      'Via: SIP/2.0/UDP h;branch=z9hG4bK1',
      "Subject: I know you're there,",
      '   pick up the phone',
      '\tand talk to me!',
      'From: <sip:a@b>;tag=1',
      'To: <sip:c@d>',
      'Call-ID: c',
      'CSeq: 1 OPTIONS',
      '',
      '',
    ),
  );
  t.equal(m.headers.get('Subject'), "I know you're there, pick up the phone and talk to me!");
  t.end();
});

t.test('parseMessage: unknown headers are kept with their value verbatim', (t) => {
  const m = ok(
    t,
    invite(['X-Weird-Header :  a ,"b, c" ;; <d>', 'P-Asserted-Identity: <sip:pai@x>']),
  );
  t.equal(m.headers.get('x-weird-header'), 'a ,"b, c" ;; <d>');
  t.equal(m.headers.get('P-Asserted-Identity'), '<sip:pai@x>');
  t.end();
});

t.test('parseMessage: UTF-8 header values are decoded for the API', (t) => {
  const m = ok(
    t,
    Buffer.from(
      'OPTIONS sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: "Jörg Ünal" <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n',
      'utf8',
    ),
  );
  t.equal(m.from.displayName, 'Jörg Ünal');
  t.end();
});

t.test('parseMessage: CRLFs before the start line are ignored (RFC 3261 §7.5)', (t) => {
  const m = ok(t, Buffer.concat([Buffer.from('\r\n\r\n'), invite()]));
  t.equal(m.kind, 'request');
  t.end();
});

t.test(
  'Content-Length on a datagram: extra bytes are discarded, a short body is a 400 (RFC 3261 §18.3)',
  (t) => {
    const m = ok(t, Buffer.concat([invite(), Buffer.from('garbage after the body')]));
    t.equal(m.body.toString('latin1'), SDP);
    const short = parseMessage(invite().subarray(0, invite().length - 5));
    t.notOk(short.ok);
    if (!short.ok) {
      t.equal(short.error.code, 'SIP_ERR_PARSE');
      t.equal(short.error.status, 400);
      t.equal(short.error.request?.method, 'INVITE', 'best-effort request to answer with');
    }
    t.end();
  },
);

t.test('Content-Length on a datagram: missing means the rest of the datagram', (t) => {
  const raw = crlf(
    'MESSAGE sip:x@y SIP/2.0',
    'Via: SIP/2.0/UDP h;branch=z9hG4bK1',
    'From: <sip:a@b>;tag=1',
    'To: <sip:c@d>',
    'Call-ID: c',
    'CSeq: 1 MESSAGE',
    '',
    'hello',
  );
  t.equal(ok(t, raw).body.toString(), 'hello');
  t.end();
});

t.test(
  'Content-Length on a stream: required and exact; fewer bytes are SIP_ERR_INCOMPLETE',
  (t) => {
    t.ok(parseMessage(invite(), { datagram: false }).ok);
    const more = parseMessage(Buffer.concat([invite(), Buffer.from('x')]), { datagram: false });
    t.equal(!more.ok && more.error.code, 'SIP_ERR_PARSE');
    const fewer = parseMessage(invite().subarray(0, invite().length - 1), { datagram: false });
    t.equal(!fewer.ok && fewer.error.code, 'SIP_ERR_INCOMPLETE');
    const headOnly = parseMessage(
      Buffer.from('INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n'),
      { datagram: false },
    );
    t.equal(!headOnly.ok && headOnly.error.code, 'SIP_ERR_INCOMPLETE');
    const noLength = parseMessage(
      crlf(
        'OPTIONS sip:x@y SIP/2.0',
        'Via: SIP/2.0/TCP h;branch=z9hG4bK1',
        'From: <sip:a@b>;tag=1',
        'To: <sip:c@d>',
        'Call-ID: c',
        'CSeq: 1 OPTIONS',
        '',
        '',
      ),
      { datagram: false },
    );
    t.equal(!noLength.ok && noLength.error.status, 400);
    t.end();
  },
);

t.test('Content-Length: negative, non-numeric or duplicated is a 400', (t) => {
  for (const cl of [
    ['Content-Length: -1'],
    ['Content-Length: abc'],
    ['Content-Length: 0', 'l: 0'],
  ]) {
    const raw = crlf(
      'OPTIONS sip:x@y SIP/2.0',
      'Via: SIP/2.0/UDP h;branch=z9hG4bK1',
      'From: <sip:a@b>;tag=1',
      'To: <sip:c@d>',
      'Call-ID: c',
      'CSeq: 1 OPTIONS',
      ...cl,
      '',
      '',
    );
    const r = parseMessage(raw);
    t.equal(!r.ok && r.error.status, 400, cl.join(' / '));
  }
  t.end();
});

t.test('bodies are bytes: multipart with NULs is kept intact', (t) => {
  const body = Buffer.concat([
    Buffer.from('--b\r\nContent-Type: application/octet-stream\r\n\r\n'),
    Buffer.from([0, 1, 2, 0xff, 0]),
    Buffer.from('\r\n--b--\r\n'),
  ]);
  const head = Buffer.from(
    `MESSAGE sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\nContent-Type: multipart/mixed;boundary=b\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  const m = ok(t, Buffer.concat([head, body]));
  t.ok(m.body.equals(body));
  t.end();
});

t.test(
  'size limit: larger than maxSize is SIP_ERR_TOO_LARGE with status 513 and a request',
  (t) => {
    const r = parseMessage(invite(), { maxSize: 200 });
    t.notOk(r.ok);
    if (!r.ok) {
      t.equal(r.error.code, 'SIP_ERR_TOO_LARGE');
      t.equal(r.error.status, 513);
      t.equal(r.error.request?.topVia?.branch, 'z9hG4bK776asdhds');
    }
    const big = Buffer.concat([invite([`X-Pad: ${'a'.repeat(70000)}`])]);
    const rb = parseMessage(big);
    t.equal(!rb.ok && rb.error.code, 'SIP_ERR_TOO_LARGE', 'default limit 64 KiB');
    t.end();
  },
);

t.test('SIP version: other versions are SIP_ERR_VERSION with status 505 and a request', (t) => {
  const r = parseMessage(
    Buffer.from(invite().toString('latin1').replace('SIP/2.0\r\n', 'SIP/7.0\r\n'), 'latin1'),
  );
  t.notOk(r.ok);
  if (!r.ok) {
    t.equal(r.error.code, 'SIP_ERR_VERSION');
    t.equal(r.error.status, 505);
    t.equal(r.error.request?.method, 'INVITE');
  }
  t.end();
});

t.test(
  'malformed requests with a parsable top Via carry error.request; without a Via they do not',
  (t) => {
    const noCallId = parseMessage(
      crlf(
        'OPTIONS sip:x@y SIP/2.0',
        'Via: SIP/2.0/UDP h;branch=z9hG4bK1',
        'From: <sip:a@b>;tag=1',
        'To: <sip:c@d>',
        'CSeq: 1 OPTIONS',
        '',
        '',
      ),
    );
    t.equal(!noCallId.ok && noCallId.error.status, 400);
    t.equal(!noCallId.ok && noCallId.error.request?.topVia?.branch, 'z9hG4bK1');
    const mismatch = parseMessage(
      crlf(
        'OPTIONS sip:x@y SIP/2.0',
        'Via: SIP/2.0/UDP h;branch=z9hG4bK1',
        'From: <sip:a@b>;tag=1',
        'To: <sip:c@d>',
        'Call-ID: c',
        'CSeq: 1 INVITE',
        '',
        '',
      ),
    );
    t.match(!mismatch.ok && mismatch.error.reason, /CSeq method/);
    const noVia = parseMessage(
      crlf(
        'OPTIONS sip:x@y SIP/2.0',
        'From: <sip:a@b>;tag=1',
        'To: <sip:c@d>',
        'Call-ID: c',
        'CSeq: 1 OPTIONS',
        '',
        '',
      ),
    );
    t.equal(!noVia.ok && noVia.error.request, undefined);
    const badLine = parseMessage(
      crlf('OPTIONS  sip:x@y SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', '', ''),
    );
    t.equal(!badLine.ok && badLine.error.status, 400, 'double SP in the request line');
    t.end();
  },
);

t.test('Max-Forwards above 255 and CSeq at or above 2^31 are rejected', (t) => {
  const base = [
    'Via: SIP/2.0/UDP h;branch=z9hG4bK1',
    'From: <sip:a@b>;tag=1',
    'To: <sip:c@d>',
    'Call-ID: c',
  ];
  const mf = parseMessage(
    crlf('OPTIONS sip:x@y SIP/2.0', ...base, 'CSeq: 1 OPTIONS', 'Max-Forwards: 256', '', ''),
  );
  t.equal(!mf.ok && mf.error.status, 400);
  const cseq = parseMessage(
    crlf('OPTIONS sip:x@y SIP/2.0', ...base, 'CSeq: 2147483648 OPTIONS', '', ''),
  );
  t.equal(!cseq.ok && cseq.error.status, 400);
  t.end();
});

t.test('strict mode validates headers the routing parse leaves for later', (t) => {
  const raw = invite(['Expires: soon']);
  t.ok(parseMessage(raw).ok, 'routing parse does not look at Expires');
  const r = parseMessage(raw, { strict: true });
  t.equal(!r.ok && r.error.status, 400);
  const badTo = Buffer.from(
    invite()
      .toString('latin1')
      .replace('To: Bob <sip:bob@biloxi.example.com>', 'To: "Bob <sip:bob@biloxi.example.com>'),
    'latin1',
  );
  t.ok(parseMessage(badTo).ok);
  t.notOk(parseMessage(badTo, { strict: true }).ok);
  t.end();
});

t.test('responses with bad status lines are errors without a status to answer', (t) => {
  for (const line of ['SIP/2.0 4294967301 Big', 'SIP/2.0 99 Low', 'SIP/2.0 20x OK', 'SIP/2.0']) {
    const r = parseMessage(crlf(line, 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', '', ''));
    t.ok(!r.ok && r.error.status === undefined && r.error.request === undefined, line);
  }
  t.end();
});

t.test('parseMessage never throws on garbage and truncations (bounded)', (t) => {
  const seed = invite();
  let seedState = 12345;
  const rand = (n: number): number => {
    seedState = (seedState * 1103515245 + 12345) & 0x7fffffff;
    return seedState % n;
  };
  let results = 0;
  for (let k = 0; k < 3000; k++) {
    const b = Buffer.from(seed.subarray(0, rand(seed.length + 1)));
    for (let j = 0; j < 4; j++) b[rand(b.length || 1)] = rand(256);
    const r = parseMessage(b);
    if (typeof r.ok === 'boolean') results++;
  }
  for (const g of [
    '',
    '\r\n',
    'SIP/2.0',
    ':',
    '\r\n\r\n\r\n',
    'A B C\r\n\r\n',
    'INVITE sip:a SIP/2.0\r\nVia:\r\n\r\n',
  ]) {
    if (typeof parseMessage(Buffer.from(g)).ok === 'boolean') results++;
  }
  t.equal(results, 3007);
  t.end();
});
