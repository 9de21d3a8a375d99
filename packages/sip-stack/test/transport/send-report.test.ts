import t from 'tap';
import { TransportLayer } from '../../src/transport/transport-layer.js';
import type { Flow, SendReport } from '../../src/transport/transport.js';
import { parseRequestText, sipRequest, udpPeer } from '../support/sip-peers.js';

/** A report that records what it is told, and when. */
class Recorder implements SendReport {
  readonly events: { kind: 'sent' | 'failed'; flow?: Flow; bytes?: Buffer; error?: unknown }[] = [];
  #wait: (() => void) | undefined;

  sent(flow: Flow, bytes?: Buffer): void {
    this.events.push({ kind: 'sent', flow, ...(bytes === undefined ? {} : { bytes }) });
    this.#wait?.();
  }

  failed(error: unknown): void {
    this.events.push({ kind: 'failed', error });
    this.#wait?.();
  }

  /** Resolves once `n` outcomes were reported. */
  async count(n: number): Promise<void> {
    while (this.events.length < n) await new Promise<void>((r) => (this.#wait = r));
  }
}

t.test(
  'UDP send with a report: each send is reported once, in order, with its flow and the bytes sent, never before send returns',
  async (t) => {
    const tl = new TransportLayer();
    t.teardown(() => tl.close());
    const lp = await tl.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
    const peer = await udpPeer('127.0.0.1');
    t.teardown(() => peer.close());
    const report = new Recorder();
    const target = { protocol: 'udp' as const, address: '127.0.0.1', port: peer.port };
    for (const branch of ['z9hG4bKr1', 'z9hG4bKr2', 'z9hG4bKr3']) {
      const request = parseRequestText(sipRequest({ via: `SIP/2.0/UDP 0.0.0.0;branch=${branch}` }));
      t.equal(tl.send(request, target, report), undefined, 'no promise');
    }
    t.equal(report.events.length, 0, 'nothing reported before send returned');
    await report.count(3);
    const received = [
      await peer.received.next(),
      await peer.received.next(),
      await peer.received.next(),
    ];
    t.same(
      report.events.map((e) => e.kind),
      ['sent', 'sent', 'sent'],
    );
    report.events.forEach((e, i) => {
      t.same(e.flow?.local, lp.local);
      t.same(e.flow?.remote, { address: '127.0.0.1', port: peer.port });
      t.same(e.bytes, received[i], `send ${i + 1}: the bytes reported are the bytes that arrived`);
    });
    t.match(received[0]?.toString('latin1') ?? '', /branch=z9hG4bKr1/);
    t.match(received[2]?.toString('latin1') ?? '', /branch=z9hG4bKr3/);
    t.equal(tl.stats().sent.udp, 3);
  },
);

t.test(
  'UDP send with a report: a failure is reported as a TransportError and counted',
  async (t) => {
    const tl = new TransportLayer();
    t.teardown(() => tl.close());
    await tl.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
    const report = new Recorder();
    const request = parseRequestText(sipRequest({ via: 'SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKf1' }));
    // no IPv6 socket: there is no listening point to send from
    t.equal(tl.send(request, { protocol: 'udp', address: '::1', port: 5060 }, report), undefined);
    t.equal(report.events.length, 0, 'nothing reported before send returned');
    await report.count(1);
    t.equal(report.events[0]?.kind, 'failed');
    t.match(report.events[0]?.error, { code: 'SIP_ERR_NO_LISTENING_POINT' });
    t.equal(tl.stats().sendErrors, 1);
  },
);

t.test('send with a report after close: SIP_ERR_CLOSED is reported', async (t) => {
  const tl = new TransportLayer();
  await tl.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
  await tl.close();
  const report = new Recorder();
  const request = parseRequestText(sipRequest({ via: 'SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKc1' }));
  tl.send(request, { protocol: 'udp', address: '127.0.0.1', port: 5060 }, report);
  await report.count(1);
  t.match(report.events[0], { kind: 'failed', error: { code: 'SIP_ERR_CLOSED' } });
});

t.test(
  'UDP sendBuffer with a report: the retransmission leaves over the pinned socket and is reported',
  async (t) => {
    const tl = new TransportLayer();
    t.teardown(() => tl.close());
    await tl.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
    const peer = await udpPeer('127.0.0.1');
    t.teardown(() => peer.close());
    const request = parseRequestText(sipRequest({ via: 'SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKb1' }));
    const flow = await tl.send(request, { protocol: 'udp', address: '127.0.0.1', port: peer.port });
    const first = await peer.received.next();
    const report = new Recorder();
    const target = { protocol: 'udp' as const, ...flow.remote, flowId: flow.flowId! };
    t.equal(tl.sendBuffer(first, target, report), undefined);
    await report.count(1);
    t.same(await peer.received.next(), first);
    t.same(report.events[0]?.flow, flow);
  },
);
