import t from 'tap';
import type { SipMessage } from '@switchboard/sip-stack';
import { b2buaHarness, drained } from '../support/call-harness.js';
import { RawCaller } from '../support/raw-caller.js';
import { RawPeer, responseText } from '../support/raw-peer.js';
import { ANSWER_B, OFFER_A } from '../support/sdp-samples.js';

function leaks(messages: readonly SipMessage[], tokens: readonly string[]): string[] {
  const found: string[] = [];
  for (const m of messages) {
    const text = m.toBuffer().toString();
    for (const token of tokens)
      if (text.includes(token)) found.push(`${token} in ${text.split('\r\n')[0]}`);
  }
  return found;
}

t.test(
  'topology hiding: nothing of one leg’s Via, Record-Route, Contact, Call-ID, tags or media address reaches the other',
  async (t) => {
    const b = await RawPeer.open(t);
    const h = await b2buaHarness(t, {
      plan: () => ({
        targets: [{ uri: `sip:bob@${b.hostport}` }],
        policy: { headers: { pass: ['Record-Route', 'Via', 'Contact', 'X-Keep'] } },
      }),
    });
    const port = h.endpoint.listeningPoints()[0]?.local.port ?? 0;
    const a = await RawCaller.open(t, { uri: h.uri, port });
    a.invite(OFFER_A, [`Record-Route: <sip:proxya@${a.peer.hostport};lr>`, 'X-Keep: yes']);
    const invite = await b.request('INVITE');
    const bTags = ';tag=rawbtag';
    const rr = [`Record-Route: <sip:proxyb@${b.hostport};lr>`];
    b.send(
      responseText(invite, 180, 'Ringing', {
        toTag: 'rawbtag',
        contact: `<sip:bob@${b.hostport}>`,
        headers: rr,
      }),
      port,
    );
    b.send(
      responseText(invite, 200, 'OK', {
        toTag: 'rawbtag',
        contact: `<sip:bob@${b.hostport}>`,
        body: ANSWER_B,
        headers: rr,
      }),
      port,
    );
    const ok = await a.peer.response(200, 'INVITE');
    a.ok = ok;
    a.ack();
    await b.request('ACK');
    const info = a.request('INFO', 'Signal=1\r\n', 'application/dtmf-relay');
    const bInfo = await b.request('INFO');
    b.send(responseText(bInfo, 200, 'OK'), port);
    t.equal((await a.final('INFO', info)).status, 200);
    const bye = a.request('BYE');
    const bBye = await b.request('BYE');
    b.send(responseText(bBye, 200, 'OK'), port);
    t.equal((await a.final('BYE', bye)).status, 200);
    t.equal(invite.headers.get('X-Keep'), 'yes', 'a header the policy passes does cross');

    const legA = [
      a.callId,
      'rawtag',
      a.peer.hostport,
      `branch=z9hG4bK-${a.callId}`,
      'proxya@',
      '192.0.2.1',
    ];
    const ourTagToA = ok.toTag ?? 'missing';
    const legB = [
      invite.callId,
      invite.fromTag ?? 'missing',
      bTags.slice(5),
      b.hostport,
      'proxyb@',
      '198.51.100.2',
      invite.topVia?.branch ?? 'missing',
    ];
    t.same(leaks(b.log, [...legA, ourTagToA]), [], "B saw nothing of A's leg");
    t.same(leaks(a.peer.log, legB), [], "A saw nothing of B's leg");
    t.ok(b.log.length >= 3 && a.peer.log.length >= 3, 'both legs carried several messages');
    await drained(t, h);
  },
);
