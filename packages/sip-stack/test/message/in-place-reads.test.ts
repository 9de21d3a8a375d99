// Values read without the general path: From/To tags read in place from the message text (bounded
// by their line), and plain "sip:host[:port][;params]" URIs parsed without a byte copy. Both must
// give what the general parsers give.
import t from 'tap';
import { parseMessage } from '../../src/message/parse-message.js';
import { formatUri, parseUri, type SipUri } from '../../src/message/sip-uri.js';
import type { SipMessage } from '../../src/message/sip-message.js';

const message = (from: string, to: string, ...rest: string[]): SipMessage => {
  const text = [
    'INVITE sip:b@example.net SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;rport',
    `From: ${from}`,
    `To: ${to}`,
    'Call-ID: call-1@example.com',
    'CSeq: 1 INVITE',
    ...rest,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const r = parseMessage(Buffer.from(text, 'utf8'));
  if (!r.ok) throw new Error(r.error.reason);
  return r.message;
};

t.test('toTag and fromTag are read from their own line only', (t) => {
  // the next lines carry ";tag=" and quotes: a read past the To line would find them
  const m = message(
    '<sip:a@example.com>;tag=ft',
    '<sip:b@example.net>',
    'Contact: <sip:x@192.0.2.1>;tag=not-to;q="0.5"',
  );
  t.equal(m.toTag, undefined);
  t.equal(m.fromTag, 'ft');
  // an addr-spec without parameters: the next "<" and ";" are on other lines
  const spec = message('<sip:a@example.com>;tag=ft', 'sip:b@example.net', 'Contact: <sip:x>;tag=c');
  t.equal(spec.toTag, undefined);
  t.end();
});

t.test('tags after quoted display names, addr-specs, folded and UTF-8 lines', (t) => {
  const quoted = message('"A <x>;tag=no" <sip:a@example.com>;tag=yes', '"B" <sip:b@x>;tag=t1');
  t.equal(quoted.fromTag, 'yes');
  t.equal(quoted.toTag, 't1');
  const spec = message('sip:a@example.com;tag=spec', 'sip:b@example.net ; TAG = up');
  t.equal(spec.fromTag, 'spec');
  t.equal(spec.toTag, 'up');
  const folded = message('<sip:a@example.com>\r\n ;tag=fold', '"Zoë" <sip:b@x>;tag=u8');
  t.equal(folded.fromTag, 'fold');
  t.equal(folded.toTag, 'u8');
  // an unterminated quoted tag value ends the value: nothing after the line may close it
  const open = message('<sip:a@x>;tag="abc', '<sip:b@x>', 'Subject: x"');
  t.equal(open.fromTag, undefined);
  const emptyTag = message('<sip:a@x>;tag=', '<sip:b@x>;tag');
  t.equal(emptyTag.fromTag, undefined);
  t.equal(emptyTag.toTag, undefined);
  t.end();
});

const sip = (s: string): SipUri => {
  const r = parseUri(s);
  if (!r.ok || r.uri.scheme !== 'sip') throw new Error(`not a sip URI: ${s}`);
  return r.uri as SipUri;
};

t.test('plain sip:host URIs parse to host, port and params like any SIP URI', (t) => {
  const u = sip('sip:Edge1.Example.NET:5070;lr;transport=TCP');
  t.equal(u.host, 'edge1.example.net');
  t.equal(u.port, 5070);
  t.equal(u.user, undefined);
  t.same(
    [...u.params],
    [
      ['lr', null],
      ['transport', 'TCP'],
    ],
  );
  t.same([...u.headers], []);
  t.equal(formatUri(u), 'sip:edge1.example.net:5070;lr;transport=TCP');
  const bare = sip('sip:192.0.2.7');
  t.equal(bare.host, '192.0.2.7');
  t.notOk('port' in bare);
  // the same shapes with a user part, an upper-case scheme or headers take the general path
  t.equal(sip('sip:bob@Edge1.example.net;lr').host, 'edge1.example.net');
  t.equal(sip('SIP:Edge1.example.net;lr').host, 'edge1.example.net');
  t.same([...sip('sip:h.example.net;lr?Subject=x').headers], [['Subject', 'x']]);
  t.end();
});

t.test('malformed plain sip:host URIs are rejected with the general reasons', (t) => {
  const reason = (s: string): string => {
    const r = parseUri(s);
    return r.ok ? 'ok' : r.reason;
  };
  t.equal(reason('sip:host:99999'), 'bad port');
  t.equal(reason('sip:host:'), 'bad port');
  t.equal(reason('sip:host;'), 'empty URI parameter');
  t.equal(reason('sip:host;lr='), 'empty value for URI parameter "lr"');
  t.equal(reason('sip:'), 'missing host');
  t.equal(reason('sip:ho st'), 'unexpected character " " in URI');
  t.equal(reason('sip:hōst'), 'unexpected character "ō" in URI');
  t.end();
});
