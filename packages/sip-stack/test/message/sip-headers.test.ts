import t from 'tap';
import { SipHeaders } from '../../src/message/sip-headers.js';
import { canonicalHeaderName } from '../../src/message/header-names.js';
import { splitValues } from '../../src/message/header-values.js';

t.test('SipHeaders: get is case-insensitive and accepts compact forms (RFC 3261 §7.3.3)', (t) => {
  const h = new SipHeaders([
    ['v', 'SIP/2.0/UDP a'],
    ['CALL-ID', 'x@y'],
    ['m', '<sip:c@d>'],
  ]);
  t.equal(h.get('Via'), 'SIP/2.0/UDP a');
  t.equal(h.get('via'), 'SIP/2.0/UDP a');
  t.equal(h.get('Call-Id'), 'x@y');
  t.equal(h.get('i'), 'x@y');
  t.equal(h.get('Contact'), '<sip:c@d>');
  t.equal(h.get('X-Missing'), undefined);
  t.same(
    [...h.entries()].map(([n]) => n),
    ['Via', 'Call-ID', 'Contact'],
    'entries use canonical names',
  );
  t.end();
});

t.test('SipHeaders: canonical names for known headers, unknown names kept as given', (t) => {
  t.equal(canonicalHeaderName('cseq'), 'CSeq');
  t.equal(canonicalHeaderName('WWW-AUTHENTICATE'), 'WWW-Authenticate');
  t.equal(canonicalHeaderName('l'), 'Content-Length');
  t.equal(canonicalHeaderName('x-Custom'), 'x-Custom');
  t.end();
});

t.test('SipHeaders: getAll returns each line, values splits commas outside quotes and <>', (t) => {
  const h = new SipHeaders();
  h.append('Contact', '"Doe, John" <sip:j@a;x=1,2>, sip:k@b');
  h.append('m', '<sip:l@c>');
  t.same(h.getAll('Contact'), ['"Doe, John" <sip:j@a;x=1,2>, sip:k@b', '<sip:l@c>']);
  t.same(h.values('Contact'), ['"Doe, John" <sip:j@a;x=1,2>', 'sip:k@b', '<sip:l@c>']);
  t.end();
});

t.test('SipHeaders: values does not split auth headers whose params contain commas', (t) => {
  const h = new SipHeaders({ Authorization: 'Digest username="a", realm="b", nonce="c"' });
  t.same(h.values('Authorization'), ['Digest username="a", realm="b", nonce="c"']);
  t.end();
});

t.test('SipHeaders: splitValues handles escaped quotes inside quoted strings', (t) => {
  t.same(splitValues('"a \\" , b" <sip:x>, <sip:y>'), ['"a \\" , b" <sip:x>', '<sip:y>']);
  t.same(splitValues(' a ,, b '), ['a', 'b']);
  t.end();
});

t.test('SipHeaders: set replaces all lines of a name in place of the first', (t) => {
  const h = new SipHeaders([
    ['X-A', '1'],
    ['Route', '<sip:r1>'],
    ['X-B', '2'],
    ['Route', '<sip:r2>'],
  ]);
  h.set('route', ['<sip:x>', '<sip:y>']);
  t.same(
    [...h],
    [
      ['X-A', '1'],
      ['Route', '<sip:x>'],
      ['Route', '<sip:y>'],
      ['X-B', '2'],
    ],
  );
  h.set('X-C', '3');
  t.same([...h].at(-1), ['X-C', '3'], 'a new name goes to the end');
  t.end();
});

t.test('SipHeaders: prepend inserts before the first line of that name, or at the top', (t) => {
  const h = new SipHeaders([
    ['Max-Forwards', '70'],
    ['Via', 'SIP/2.0/UDP b'],
  ]);
  h.prepend('Via', 'SIP/2.0/UDP a');
  h.prepend('Record-Route', '<sip:p;lr>');
  t.same(
    [...h].map(([n, v]) => `${n}: ${v}`),
    ['Record-Route: <sip:p;lr>', 'Max-Forwards: 70', 'Via: SIP/2.0/UDP a', 'Via: SIP/2.0/UDP b'],
  );
  t.end();
});

t.test('SipHeaders: delete removes every line; has reflects it', (t) => {
  const h = new SipHeaders([
    ['Route', '<sip:a>'],
    ['Route', '<sip:b>'],
    ['To', '<sip:t>'],
  ]);
  t.ok(h.has('route'));
  h.delete('Route');
  t.notOk(h.has('Route'));
  t.equal(h.size, 1);
  t.end();
});

t.test(
  'SipHeaders: shiftValue takes the first value of a comma-joined line, then the next line',
  (t) => {
    const h = new SipHeaders([
      ['Route', '<sip:a;lr>, <sip:b;lr>'],
      ['Route', '<sip:c;lr>'],
    ]);
    t.equal(h.shiftValue('Route'), '<sip:a;lr>');
    t.same(h.getAll('Route'), ['<sip:b;lr>', '<sip:c;lr>']);
    t.equal(h.shiftValue('Route'), '<sip:b;lr>');
    t.equal(h.shiftValue('Route'), '<sip:c;lr>');
    t.equal(h.shiftValue('Route'), undefined);
    t.notOk(h.has('Route'));
    t.end();
  },
);

t.test('SipHeaders: version increments on every change and clone is independent', (t) => {
  const h = new SipHeaders({ To: '<sip:a>' });
  const v0 = h.version;
  h.append('X', '1');
  t.ok(h.version > v0);
  const c = h.clone();
  c.set('To', '<sip:b>');
  t.equal(h.get('To'), '<sip:a>');
  t.equal(c.get('To'), '<sip:b>');
  t.end();
});
