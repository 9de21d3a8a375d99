import t from 'tap';
import { parseMessage } from '../../src/message/parse-message.js';
import type { SipMessage } from '../../src/message/sip-message.js';
import { formatVia } from '../../src/message/via.js';
import { isSipUri } from '../../src/message/sip-uri.js';

const parse = (raw: Buffer | string): SipMessage => {
  const r = parseMessage(typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw);
  if (!r.ok) throw new Error(r.error.reason);
  return r.message;
};

const TORTUOUS = [
  'INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0',
  'TO :',
  ' sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n',
  'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>',
  '  ;',
  '  tag = 98asjd8',
  'MaX-fOrWaRdS: 0068',
  'Call-ID: wsinv.ndaksdj@192.0.2.1',
  'Content-Length   : 13',
  'cseq: 0009',
  '  INVITE',
  'Via  : SIP  /   2.0',
  ' /UDP',
  '    192.0.2.2;rport;branch=390skdjuw',
  's :',
  'NewFangledHeader:   newfangled value',
  ' continued newfangled value',
  'UnknownHeaderWithUnusualValue: ;;,,;;,;',
  'v:  SIP  / 2.0  / TCP     spindle.example.com   ;',
  '  branch  =   z9hG4bK9ikj8  ,',
  ' SIP  /    2.0   / UDP  192.168.255.111   ; branch=',
  ' z9hG4bK30239',
  'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =',
  '      newvalue ;',
  '  secondparam ; q = 0.33',
  '',
  'hello world\r\n',
].join('\r\n');

t.test('toBuffer: an unchanged parsed message is written back byte for byte', (t) => {
  const raw = Buffer.from(TORTUOUS, 'latin1');
  const m = parse(raw);
  t.equal(m.headers.get('NewFangledHeader'), 'newfangled value continued newfangled value');
  t.ok(m.toBuffer().equals(raw));
  t.end();
});

t.test('toBuffer: non-ASCII bytes in unchanged lines survive exactly', (t) => {
  const raw = Buffer.from(
    'OPTIONS sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: "Jörg" <sip:a@b>;tag=1\r\nX-Bin: \xff\xfe\r\nTo: <sip:c@d>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
    'utf8',
  );
  t.ok(parse(raw).toBuffer().equals(raw));
  t.end();
});

t.test('toBuffer: after a proxy edit only the changed lines differ', (t) => {
  const m = parse(TORTUOUS);
  m.headers.prepend('Via', 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1');
  m.maxForwards = 67;
  const out = m.toBuffer().toString('latin1');
  t.ok(
    out.includes('\r\nMax-Forwards: 67\r\nCall-ID: wsinv.ndaksdj@192.0.2.1\r\n'),
    'Max-Forwards rewritten in place',
  );
  t.ok(
    out.includes(
      '\r\nVia: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1\r\nVia  : SIP  /   2.0\r\n /UDP\r\n',
    ),
    'new Via before the old, old one verbatim',
  );
  t.ok(
    out.includes('NewFangledHeader:   newfangled value\r\n continued newfangled value\r\n'),
    'folded unknown header verbatim',
  );
  t.ok(out.endsWith('\r\n\r\nhello world\r\n'));
  const again = parse(out);
  t.equal(again.via.length, 4);
  t.equal(again.topVia?.host, 'proxy.example.com');
  t.equal(again.maxForwards, 67);
  t.end();
});

t.test('toBuffer: Content-Length follows the body', (t) => {
  const m = parse(TORTUOUS);
  m.body = Buffer.from('abc');
  const out = m.toBuffer().toString('latin1');
  t.ok(out.includes('\r\nContent-Length: 3\r\n'));
  t.ok(out.endsWith('\r\n\r\nabc'));
  t.equal(m.headers.get('Content-Length'), '3');
  const noLen = parse(
    'MESSAGE sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\n\r\nhi',
  );
  t.ok(
    noLen.toBuffer().toString().endsWith('CSeq: 1 MESSAGE\r\nContent-Length: 2\r\n\r\nhi'),
    'added when missing',
  );
  t.end();
});

t.test('toBuffer: values set through the API are UTF-8 on the wire', (t) => {
  const m = parse(TORTUOUS);
  m.headers.set('Subject', 'Grüße');
  const out = m.toBuffer();
  t.ok(out.includes(Buffer.from('Subject: Grüße\r\n', 'utf8')));
  t.equal(parse(out).headers.get('Subject'), 'Grüße');
  t.end();
});

t.test('setTopVia replaces the top Via value and invalidates the cached accessors', (t) => {
  const m = parse(TORTUOUS);
  t.equal(m.topVia?.host, '192.0.2.2');
  const v = m.topVia;
  if (v === undefined) throw new Error('no Via');
  v.received = '198.51.100.1';
  v.rport = 5062;
  m.setTopVia(formatVia(v));
  t.equal(m.topVia?.received, '198.51.100.1');
  t.equal(m.topVia?.rport, 5062);
  t.equal(m.via.length, 3);
  t.end();
});

t.test('accessors follow header changes; callId and uri setters', (t) => {
  const m = parse(TORTUOUS);
  if (m.kind !== 'request') throw new Error('request expected');
  t.equal(m.routes.length, 0);
  m.headers.append('Route', '<sip:r1;lr>');
  t.same(
    m.routes.map((r) => r.uri),
    ['sip:r1;lr'],
  );
  m.callId = 'new-id';
  t.equal(m.callId, 'new-id');
  m.uri = 'sip:other@example.net:5070';
  const ru = m.requestUri;
  t.equal(isSipUri(ru) && ru.port, 5070);
  t.ok(m.toBuffer().toString('latin1').startsWith('INVITE sip:other@example.net:5070 SIP/2.0\r\n'));
  t.end();
});

t.test('clone: changes to the clone do not touch the original', (t) => {
  const m = parse(TORTUOUS);
  const before = m.toBuffer();
  const c = m.clone();
  c.headers.shiftValue('Via');
  c.maxForwards = 1;
  t.ok(m.toBuffer().equals(before));
  t.equal(c.via.length, 2);
  t.end();
});
