import t from 'tap';
import { parseMessage } from '../../src/message/parse-message.js';
import type { SipMessage, SipResponse } from '../../src/message/sip-message.js';
import { ManualClock } from '../../src/util/clock.js';
import type { IncomingRequest } from '../../src/endpoint/incoming-request.js';
import {
  endpointPair,
  nextEvent,
  startEndpoint,
  until,
  uriOf,
} from '../support/endpoint-harness.js';
import { sipRequest, udpPeer } from '../support/sip-peers.js';

const SDP =
  'v=0\r\no=b 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n';

function parse(b: Buffer): SipMessage {
  const r = parseMessage(b);
  if (!r.ok) throw new Error(r.error.reason);
  return r.message;
}

t.test(
  '100rel: a reliable 183 carries Require and RSeq, the caller PRACKs it, the 200 confirms the same dialog',
  async (t) => {
    const { a, b } = await endpointPair(t, 'udp');
    let incoming: IncomingRequest | undefined;
    b.onRequest('INVITE', (req) => {
      incoming = req;
      req.progress(183, { reliable: true, body: SDP, contentType: 'application/sdp' });
    });
    const provisionals: SipResponse[] = [];
    const invite = a.invite({
      uri: uriOf(b, 'bob'),
      headers: { Supported: '100rel' },
      onProvisional: (r) => provisionals.push(r),
    });
    await until(() => incoming !== undefined);
    const [acked, prack] = await nextEvent(incoming!, 'prack');
    t.equal(acked.status, 183);
    t.match(prack.headers.get('RAck'), new RegExp(`^${acked.headers.get('RSeq')} 1 INVITE$`));
    t.equal(provisionals[0]?.headers.get('Require'), '100rel');
    t.ok(provisionals[0]?.headers.get('RSeq'));
    const early = b.sessions[0];
    t.equal(early?.state, 'early', 'the reliable 183 made an early dialog');
    const dialog = incoming!.accept({ body: SDP, contentType: 'application/sdp' });
    t.equal(dialog, early, 'the 200 confirms that dialog');
    const { dialog: caller } = await invite;
    await nextEvent(dialog, 'ack');
    t.equal(dialog.state, 'confirmed');
    t.equal((await caller.bye()).status, 200);
    t.equal(await dialog.terminated, 'remote-bye');
  },
);

t.test('100rel: a 2xx waits for the PRACK of a reliable 1xx with SDP (RFC 3262 §3)', async (t) => {
  const { a, b } = await endpointPair(t, 'udp');
  const order: string[] = [];
  b.onRequest('INVITE', (req) => {
    req.on('prack', () => order.push('prack'));
    req.progress(183, { reliable: true, body: SDP, contentType: 'application/sdp' });
    req.accept({ body: SDP, contentType: 'application/sdp' });
    order.push(req.responded ? 'answered at once' : 'deferred');
  });
  const invite = a.invite({ uri: uriOf(b, 'bob'), headers: { Supported: '100rel' } });
  invite.on('provisional', () => order.push('183'));
  await invite;
  t.same(order, ['deferred', '183', 'prack']);
});

t.test('100rel: without Supported: 100rel in the INVITE the 1xx goes unreliably', async (t) => {
  const { a, b } = await endpointPair(t, 'udp');
  b.onRequest('INVITE', (req) => {
    req.progress(183, { reliable: true });
    req.accept();
  });
  const provisionals: SipResponse[] = [];
  await a.invite({ uri: uriOf(b, 'bob'), onProvisional: (r) => provisionals.push(r) });
  t.equal(provisionals[0]?.headers.get('Require'), undefined);
  t.equal(provisionals[0]?.headers.get('RSeq'), undefined);
});

t.test(
  '100rel: retransmitted until PRACK; a PRACK matching nothing gets 481; none at all → 504',
  async (t) => {
    const clock = new ManualClock();
    const b = await startEndpoint(t, 'udp', { clock });
    const port = b.listeningPoints()[0]!.local.port;
    const peer = await udpPeer();
    t.teardown(() => peer.close());
    b.onRequest('INVITE', (req) => void req.progress(180, { reliable: true }));
    const via = `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKrel1;rport`;
    await peer.send(
      sipRequest({
        method: 'INVITE',
        uri: `sip:bob@127.0.0.1:${port}`,
        via,
        callId: 'rel-1',
        extra: [`Contact: <sip:peer@127.0.0.1:${peer.port}>`, 'Supported: 100rel'],
      }),
      port,
    );
    const first = parse(await peer.received.next()) as SipResponse;
    t.equal(first.status, 180);
    clock.advance(500);
    const again = parse(await peer.received.next()) as SipResponse;
    t.equal(again.headers.get('RSeq'), first.headers.get('RSeq'), 'retransmitted at T1');
    const toTag = first.toTag ?? '';
    await peer.send(
      sipRequest({
        method: 'PRACK',
        uri: `sip:bob@127.0.0.1:${port}`,
        via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKprack1;rport`,
        callId: 'rel-1',
        cseq: '2 PRACK',
        extra: [`RAck: 999 1 INVITE`],
      }).replace('To: <sip:service@example.test>', `To: <sip:service@example.test>;tag=${toTag}`),
      port,
    );
    const refused = parse(await peer.received.next()) as SipResponse;
    t.equal(refused.status, 481);
    clock.advance(64 * 500);
    let final: SipResponse | undefined;
    for (let i = 0; i < 20 && final === undefined; i++) {
      const m = parse(await peer.received.next()) as SipResponse;
      if (m.status >= 200) final = m;
    }
    t.equal(final?.status, 504, 'RFC 3262 §3: no PRACK → 5xx');
    t.equal(b.sessions.length, 0, 'the early dialog ended');
  },
);
