import t, { type Test } from 'tap';
import { createResponse } from '../../src/message/build-response.js';
import { parseMessage } from '../../src/message/parse-message.js';
import type { SipMessage } from '../../src/message/sip-message.js';
import { ManualClock } from '../../src/util/clock.js';
import type { DialogSession } from '../../src/endpoint/dialog-session.js';
import { nextEvent, startEndpoint, until } from '../support/endpoint-harness.js';
import { sipRequest, udpPeer } from '../support/sip-peers.js';
import type { UdpPeer } from '../support/sip-peers.js';

const T1 = 500;

function parse(b: Buffer): SipMessage {
  const r = parseMessage(b);
  if (!r.ok) throw new Error(`peer got unparsable bytes: ${r.error.reason}`);
  return r.message;
}

async function callFromRawPeer(t: Test) {
  const clock = new ManualClock();
  const b = await startEndpoint(t, 'udp', { clock });
  const port = b.listeningPoints()[0]!.local.port;
  const peer = await udpPeer();
  t.teardown(() => peer.close());
  const dialogs: DialogSession[] = [];
  b.onRequest(
    'INVITE',
    (req) => void dialogs.push(req.accept({ body: 'v=0\r\n', contentType: 'application/sdp' })),
  );
  const via = `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKinv1;rport`;
  await peer.send(
    sipRequest({
      method: 'INVITE',
      uri: `sip:bob@127.0.0.1:${port}`,
      via,
      callId: 'retx-1',
      extra: [`Contact: <sip:peer@127.0.0.1:${peer.port}>`],
    }),
    port,
  );
  const first = parse(await peer.received.next());
  t.equal(first.kind === 'response' && first.status, 200, 'the 2xx arrives');
  return { clock, b, port, peer, dialogs, first };
}

async function expect200(t: Test, peer: UdpPeer, toTag: string | undefined, label: string) {
  const m = parse(await peer.received.next());
  t.ok(m.kind === 'response' && m.status === 200 && m.toTag === toTag, label);
}

t.test(
  'UAS: the 2xx is retransmitted at T1, 2T1, 4T1… capped at T2 until the ACK, then stops (RFC 3261 §13.3.1.4)',
  async (t) => {
    const { clock, port, peer, dialogs, first } = await callFromRawPeer(t);
    const toTag = first.toTag;
    let total = 0;
    for (const step of [T1, 2 * T1, 4 * T1, 8 * T1, 8 * T1]) {
      clock.advance(step - 1);
      clock.advance(1);
      await expect200(t, peer, toTag, `retransmission after ${step} ms more`);
      total += step;
    }
    t.equal(total, 11500);
    const dialog = dialogs[0]!;
    const acked = nextEvent(dialog, 'ack');
    await peer.send(
      sipRequest({
        method: 'ACK',
        uri: `sip:bob@127.0.0.1:${port}`,
        via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKack1;rport`,
        callId: 'retx-1',
        cseq: '1 ACK',
        extra: [],
      }).replace(
        'To: <sip:service@example.test>',
        `To: <sip:service@example.test>;tag=${toTag ?? ''}`,
      ),
      port,
    );
    await acked;
    clock.advance(64 * T1);
    // Barrier: the next datagram after an OPTIONS round trip must be its answer, not another 2xx.
    await peer.send(
      sipRequest({
        method: 'OPTIONS',
        uri: `sip:bob@127.0.0.1:${port}`,
        via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKopt1;rport`,
        callId: 'retx-barrier',
      }),
      port,
    );
    const next = parse(await peer.received.next());
    t.equal(next.cseq.method, 'OPTIONS', 'no 2xx after the ACK');
    t.equal(dialog.state, 'confirmed');
  },
);

t.test(
  'UAS: without an ACK the 2xx stops after 64*T1 and the dialog ends with BYE (RFC 3261 §13.3.1.4)',
  async (t) => {
    const { clock, port, peer, dialogs } = await callFromRawPeer(t);
    const dialog = dialogs[0]!;
    const timedOut = nextEvent(dialog, 'ack-timeout');
    clock.advance(64 * T1);
    await timedOut;
    let retransmissions = 0;
    for (let i = 0; i < 20; i++) {
      const m = parse(await peer.received.next());
      if (m.kind === 'response') {
        retransmissions++;
        continue;
      }
      t.equal(m.method, 'BYE', 'BYE follows');
      t.equal(m.callId, 'retx-1');
      t.equal(m.toTag, 'a1', 'To carries the caller tag');
      t.equal(m.uri, `sip:peer@127.0.0.1:${peer.port}`, 'sent to the remote target');
      await peer.send(createResponse(m, 200).toBuffer(), port);
      break;
    }
    // 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
    t.equal(retransmissions, 10, 'ten retransmissions in 64*T1');
    t.equal(await dialog.terminated, 'ack-timeout');
  },
);

t.test(
  'UAC: a second fork answering 2xx is ACKed and hung up; a retransmitted 2xx is ACKed again (RFC 3261 §13.2.2.4)',
  async (t) => {
    const a = await startEndpoint(t, 'udp');
    const aPort = a.listeningPoints()[0]!.local.port;
    const peer = await udpPeer();
    t.teardown(() => peer.close());
    const call = a.invite({ uri: `sip:bob@127.0.0.1:${peer.port}` });
    const invite = parse(await peer.received.next());
    if (invite.kind !== 'request') throw new Error('expected the INVITE');
    const answer = (tag: string, status = 200): Buffer =>
      createResponse(invite, status, undefined, {
        toTag: tag,
        headers: { Contact: `<sip:${tag}@127.0.0.1:${peer.port}>` },
      }).toBuffer();
    await peer.send(answer('fork1', 180), aPort);
    await peer.send(answer('fork2', 180), aPort);
    const early = await until(() => call.earlyDialogs.length === 2).then(() => call.earlyDialogs);
    t.equal(early.length, 2, 'one early dialog per fork');
    await peer.send(answer('fork1'), aPort);
    const { dialog } = await call;
    t.equal(dialog.dialog.id.remoteTag, 'fork1');
    await peer.send(answer('fork2'), aPort);
    const seen: string[] = [];
    for (let i = 0; i < 10 && seen.length < 3; i++) {
      const m = parse(await peer.received.next());
      if (m.kind !== 'request') continue;
      seen.push(`${m.method} ${m.toTag ?? ''}`);
      if (m.method === 'BYE') await peer.send(createResponse(m, 200).toBuffer(), aPort);
    }
    t.same(seen, ['ACK fork1', 'ACK fork2', 'BYE fork2'], 'the unwanted fork gets ACK then BYE');
    await peer.send(answer('fork1'), aPort);
    const again = parse(await peer.received.next());
    t.ok(
      again.kind === 'request' && again.method === 'ACK' && again.toTag === 'fork1',
      'ACK resent',
    );
    t.equal(dialog.state, 'confirmed');
    t.equal(a.sessions.length, 1, 'only the answered dialog stays');
  },
);
