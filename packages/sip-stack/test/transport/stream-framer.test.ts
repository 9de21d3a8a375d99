import t from 'tap';
import { StreamFramer, readContentLength } from '../../src/transport/stream-framer.js';
import type { FramingErrorKind } from '../../src/transport/stream-framer.js';

interface Recorded {
  messages: string[];
  pings: number;
  errors: { kind: FramingErrorKind; reason: string; head?: string }[];
}

function framer(max = 65536): { f: StreamFramer; r: Recorded } {
  const r: Recorded = { messages: [], pings: 0, errors: [] };
  const f = new StreamFramer(
    {
      onMessage: (b) => r.messages.push(b.toString('latin1')),
      onPing: () => r.pings++,
      onError: (kind, reason, head) =>
        r.errors.push(
          head === undefined ? { kind, reason } : { kind, reason, head: head.toString('latin1') },
        ),
    },
    max,
  );
  return { f, r };
}

const opts = (body: string, cl = `Content-Length: ${Buffer.byteLength(body)}`): string =>
  `OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n${cl}\r\n\r\n${body}`;

t.test('framer: a message split into single bytes is delivered once, whole', (t) => {
  const { f, r } = framer();
  const msg = opts('hello body');
  for (const byte of Buffer.from(msg)) f.push(Buffer.from([byte]));
  t.same(r.messages, [msg]);
  t.equal(f.buffered, 0);
  t.end();
});

t.test('framer: several messages in one chunk are delivered in order', (t) => {
  const { f, r } = framer();
  const a = opts('A');
  const b = opts('', 'l: 0');
  const c = opts('CCC');
  f.push(Buffer.from(a + b + c + a.slice(0, 10)));
  t.same(r.messages, [a, b, c]);
  f.push(Buffer.from(a.slice(10)));
  t.same(r.messages, [a, b, c, a]);
  t.end();
});

t.test(
  'framer: double CRLF between messages is a ping, single CRLF is skipped (RFC 5626 §3.5.1)',
  (t) => {
    const { f, r } = framer();
    const a = opts('x');
    f.push(Buffer.from('\r\n\r\n'));
    t.equal(r.pings, 1);
    f.push(Buffer.from('\r\n'));
    f.push(Buffer.from('\r\n'));
    t.equal(r.pings, 2, 'a ping split across two chunks');
    f.push(Buffer.from('\r\n' + a));
    t.equal(r.pings, 2, 'a lone CRLF before a message is not a ping');
    t.same(r.messages, [a]);
    t.end();
  },
);

t.test('framer: missing Content-Length on a stream is a framing error (RFC 3261 §18.3)', (t) => {
  const { f, r } = framer();
  f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n'));
  t.same(
    r.errors.map((e) => e.kind),
    ['bad-framing'],
  );
  t.ok(f.stopped);
  f.push(Buffer.from(opts('')));
  t.same(r.messages, [], 'nothing after a framing error');
  t.end();
});

t.test('framer: a non-numeric or conflicting Content-Length is a framing error', (t) => {
  for (const cl of ['Content-Length: abc', 'Content-Length: -1', 'l: 1\r\nContent-Length: 2']) {
    const { f, r } = framer();
    f.push(Buffer.from(opts('', cl)));
    t.equal(r.errors[0]?.kind, 'bad-framing', cl);
  }
  t.end();
});

t.test('framer: a header block that never ends within the limit is a framing error', (t) => {
  const { f, r } = framer(1000);
  f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\n'));
  for (let i = 0; i < 100 && !f.stopped; i++) f.push(Buffer.from('X-Filler: 0123456789\r\n'));
  t.equal(r.errors[0]?.kind, 'bad-framing');
  t.ok(f.buffered <= 1100, 'memory stays bounded');
  t.end();
});

t.test(
  'framer: Content-Length past the size limit reports too-large with the header block',
  (t) => {
    const { f, r } = framer(200);
    const head = 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5000\r\n\r\n';
    f.push(Buffer.from(head + 'partial'));
    t.equal(r.errors[0]?.kind, 'too-large');
    t.equal(r.errors[0]?.head, head);
    t.end();
  },
);

t.test('readContentLength: compact form, folding and case are accepted', (t) => {
  t.same(readContentLength(Buffer.from('X sip:a SIP/2.0\r\nL:  12')), { ok: true, length: 12 });
  t.same(readContentLength(Buffer.from('X sip:a SIP/2.0\r\ncontent-length :\r\n 7')), {
    ok: true,
    length: 7,
  });
  t.same(readContentLength(Buffer.from('X sip:a SIP/2.0\r\nContent-Type: a\r\nLength: 3')), {
    ok: false,
    reason: 'missing',
  });
  t.end();
});
