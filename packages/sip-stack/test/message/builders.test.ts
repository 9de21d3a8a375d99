import t from 'tap';
import { parseMessage } from '../../src/message/parse-message.js';
import type { SipRequest, SipResponse } from '../../src/message/sip-message.js';
import { createResponse } from '../../src/message/build-response.js';
import { createRequest, createAck, createCancel } from '../../src/message/build-request.js';
import { generateBranch, generateTag, generateCallId } from '../../src/message/ids.js';
import { reasonPhrase } from '../../src/message/reason-phrase.js';
import { createNameAddr } from '../../src/message/name-addr.js';

const INVITE = [
  'INVITE sip:bob@biloxi.com SIP/2.0',
  'Via: SIP/2.0/UDP proxy.atlanta.com;branch=z9hG4bKp1, SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKa1',
  'Via: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bKz',
  'Max-Forwards: 69',
  'Route: <sip:p2.biloxi.com;lr>',
  'Record-Route: <sip:proxy.atlanta.com;lr>',
  'To: Bob <sip:bob@biloxi.com>',
  'From: Alice <sip:alice@atlanta.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710',
  'CSeq: 314159 INVITE',
  'Timestamp: 54',
  'Contact: <sip:alice@pc33.atlanta.com>',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

const req = (): SipRequest => {
  const r = parseMessage(Buffer.from(INVITE));
  if (!r.ok || r.message.kind !== 'request') throw new Error('bad fixture');
  return r.message;
};
const reparse = (m: SipRequest | SipResponse) => {
  const r = parseMessage(m.toBuffer());
  if (!r.ok) throw new Error(r.error.reason);
  return r.message;
};

t.test(
  'createResponse copies Via (all, in order), From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2)',
  (t) => {
    const res = createResponse(req(), 486);
    t.equal(res.status, 486);
    t.equal(res.reason, 'Busy Here');
    t.same(res.headers.getAll('Via'), [
      'SIP/2.0/UDP proxy.atlanta.com;branch=z9hG4bKp1, SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKa1',
      'SIP/2.0/TCP 10.0.0.1;branch=z9hG4bKz',
    ]);
    t.equal(res.headers.get('From'), 'Alice <sip:alice@atlanta.com>;tag=1928301774');
    t.equal(res.callId, 'a84b4c76e66710');
    t.same(res.cseq, { seq: 314159, method: 'INVITE' });
    t.ok(res.toTag !== undefined && res.toTag.length >= 8, 'a To tag is added');
    t.notOk(res.headers.has('Record-Route'));
    t.notOk(res.headers.has('Timestamp'));
    t.notOk(res.headers.has('Contact'));
    const again = reparse(res);
    t.equal(again.kind === 'response' && again.status, 486, 'serialises and parses back');
    t.end();
  },
);

t.test('createResponse: 100 Trying gets no To tag but copies Timestamp (§8.2.6.1)', (t) => {
  const res = createResponse(req(), 100);
  t.equal(res.toTag, undefined);
  t.equal(res.headers.get('Timestamp'), '54');
  t.equal(res.reason, 'Trying');
  t.end();
});

t.test(
  'createResponse: an existing To tag is kept; a given toTag is used when there is none',
  (t) => {
    const r = req();
    t.equal(createResponse(r, 180, undefined, { toTag: 'abc' }).toTag, 'abc');
    r.headers.set('To', 'Bob <sip:bob@biloxi.com>;tag=existing');
    t.equal(createResponse(r, 200, undefined, { toTag: 'abc' }).toTag, 'existing');
    t.end();
  },
);

t.test('createResponse: options add Record-Route, headers, body and Content-Type', (t) => {
  const res = createResponse(req(), 200, 'Fine', {
    copyRecordRoute: true,
    headers: { Contact: '<sip:bob@192.0.2.4>', Supported: ['timer', '100rel'] },
    body: 'v=0\r\n',
    contentType: 'application/sdp',
  });
  t.equal(res.reason, 'Fine');
  t.same(res.headers.getAll('Record-Route'), ['<sip:proxy.atlanta.com;lr>']);
  t.same(res.headers.getAll('Supported'), ['timer', '100rel']);
  t.equal(res.headers.get('Content-Type'), 'application/sdp');
  const again = reparse(res);
  t.equal(again.body.toString(), 'v=0\r\n');
  t.equal(again.headers.get('Content-Length'), '5');
  t.end();
});

t.test('createRequest builds the mandatory headers of §8.1.1 with a placeholder Via', (t) => {
  const r = createRequest({
    method: 'INVITE',
    uri: 'sip:bob@biloxi.com',
    callId: generateCallId(),
    cseq: 1,
    from: createNameAddr('sip:alice@atlanta.com', [['tag', generateTag()]], 'Alice'),
    to: 'Bob <sip:bob@biloxi.com>',
    contact: '<sip:alice@192.0.2.1>',
    route: ['<sip:p1;lr>'],
    headers: { Allow: 'INVITE, ACK, BYE' },
    body: 'v=0\r\n',
    contentType: 'application/sdp',
  });
  const m = reparse(r);
  t.equal(m.maxForwards, 70);
  t.match(m.topVia?.branch, /^z9hG4bK/);
  t.equal(m.topVia?.host, '0.0.0.0');
  t.equal(m.topVia?.rport, null);
  t.same(m.cseq, { seq: 1, method: 'INVITE' });
  t.equal(m.from.displayName, 'Alice');
  t.ok(m.fromTag);
  t.same(
    m.routes.map((x) => x.uri),
    ['sip:p1;lr'],
  );
  t.equal(m.headers.get('Content-Type'), 'application/sdp');
  t.equal(m.body.toString(), 'v=0\r\n');
  t.end();
});

t.test(
  'createAck for a non-2xx: URI, Call-ID, From, top Via, Route of the INVITE; To from the response (§17.1.1.3)',
  (t) => {
    const invite = req();
    const res = createResponse(invite, 486, undefined, { toTag: 'callee' });
    const ack = createAck(invite, res);
    t.equal(ack.method, 'ACK');
    t.equal(ack.uri, 'sip:bob@biloxi.com');
    t.same(
      ack.headers.getAll('Via'),
      ['SIP/2.0/UDP proxy.atlanta.com;branch=z9hG4bKp1'],
      'exactly the top Via',
    );
    t.equal(ack.toTag, 'callee');
    t.equal(ack.fromTag, '1928301774');
    t.equal(ack.callId, 'a84b4c76e66710');
    t.same(ack.cseq, { seq: 314159, method: 'ACK' });
    t.same(ack.headers.getAll('Route'), ['<sip:p2.biloxi.com;lr>']);
    t.equal(ack.body.length, 0);
    t.ok(reparse(ack).kind === 'request');
    t.end();
  },
);

t.test('createCancel: same URI, Call-ID, To, From, CSeq number and top Via (§9.1)', (t) => {
  const invite = req();
  const cancel = createCancel(invite);
  t.equal(cancel.method, 'CANCEL');
  t.equal(cancel.uri, invite.uri);
  t.same(cancel.headers.getAll('Via'), ['SIP/2.0/UDP proxy.atlanta.com;branch=z9hG4bKp1']);
  t.equal(cancel.headers.get('To'), 'Bob <sip:bob@biloxi.com>');
  t.equal(cancel.headers.get('From'), invite.headers.get('From'));
  t.same(cancel.cseq, { seq: 314159, method: 'CANCEL' });
  t.same(cancel.headers.getAll('Route'), ['<sip:p2.biloxi.com;lr>']);
  t.equal(cancel.maxForwards, 69);
  t.ok(reparse(cancel).kind === 'request');
  t.end();
});

t.test('generateBranch/Tag/CallId are unique and well-formed', (t) => {
  const seen = new Set<string>();
  let wellFormed = 0;
  for (let i = 0; i < 2000; i++) {
    const b = generateBranch();
    const tag = generateTag();
    const id = generateCallId();
    if (/^z9hG4bK[0-9a-f]{20}$/.test(b) && /^[0-9a-f]{12}$/.test(tag) && /^[0-9a-f]{32}$/.test(id))
      wellFormed++;
    seen.add(b).add(tag).add(id);
  }
  t.equal(wellFormed, 2000);
  t.equal(seen.size, 6000);
  t.end();
});

t.test('reasonPhrase: standard phrases and class fallbacks', (t) => {
  t.equal(reasonPhrase(200), 'OK');
  t.equal(reasonPhrase(481), 'Call/Transaction Does Not Exist');
  t.equal(reasonPhrase(513), 'Message Too Large');
  t.equal(reasonPhrase(499), 'Client Error');
  t.end();
});
