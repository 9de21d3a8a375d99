import t, { type Test } from 'tap';
import {
  RtpRelay,
  type LatchedEvent,
  type PortMode,
  type RelaySessionOptions,
  type SourceChangedEvent,
} from '../src/index.js';
import { PORT_MODES, rangeFor, skipFor } from './support/port-modes.js';
import { nextEvent, rtpPacket, UdpPeer, waitFor } from './support/udp-peer.js';

// Port range of this file: 41000–41999 (sockets mode), 22000–22999 (shared mode).
for (const mode of PORT_MODES) {
  t.test(`with ${mode} ports`, { skip: skipFor(mode) }, (t) => {
    suite(t, mode);
    t.end(); // ends once the subtests defined by the suite have run
  });
}

function suite(t: Test, mode: PortMode): void {
  const relay = RtpRelay.create({
    ports: rangeFor(mode, 41000, 41999),
    addresses: ['127.0.0.1'],
    kernel: false,
    portMode: mode,
  });
  t.teardown(() => relay.close());
  t.equal(relay.portMode, mode, relay.portModeReason);

  async function peer(address = '127.0.0.1'): Promise<UdpPeer> {
    const p = await UdpPeer.open(address);
    t.teardown(() => p.close());
    return p;
  }

  /** A session whose side B is a fixed peer and side A's SDP points at `sdpPort`. */
  async function setup(opts: RelaySessionOptions, sdpPort: number) {
    const b = await peer();
    const s = relay.createSession(opts);
    t.teardown(() => s.close());
    s.setRemote('a', { address: '127.0.0.1', rtpPort: sdpPort });
    s.setRemote('b', { address: '127.0.0.1', rtpPort: b.port });
    return { s, b };
  }

  t.test('immediate latching sends to the first source, not to the SDP address', async (t) => {
    const nat = await peer();
    const sdp = await peer();
    const { s, b } = await setup({ latching: 'immediate' }, sdp.port);
    const latched = nextEvent<[LatchedEvent]>(s, 'latched');
    await nat.send(rtpPacket(1), s.a.rtpPort);
    const [ev] = await latched;
    t.same(ev, { side: 'a', channel: 'rtp', address: '127.0.0.1', port: nat.port });
    await b.next();
    await b.send(rtpPacket(2), s.b.rtpPort);
    const got = await nat.next();
    t.equal(got.from.port, s.a.rtpPort);
    t.equal(sdp.pending, 0, 'the SDP address got nothing');
    t.same(s.stats().a.latched, { address: '127.0.0.1', port: nat.port });
  });

  t.test('heuristic latching switches at once to the SDP address and port', async (t) => {
    const other = await peer();
    const sdp = await peer();
    const { s, b } = await setup({ latching: 'heuristic', learnWindowMs: 60_000 }, sdp.port);
    await other.send(rtpPacket(1), s.a.rtpPort);
    await b.next();
    const latched = nextEvent<[LatchedEvent]>(s, 'latched');
    await sdp.send(rtpPacket(2), s.a.rtpPort);
    const [ev] = await latched;
    t.equal(ev.port, sdp.port, 'latched to the SDP address+port');
    await b.next();
    await b.send(rtpPacket(3), s.b.rtpPort);
    t.equal((await sdp.next()).from.port, s.a.rtpPort);
  });

  t.test(
    'heuristic latching prefers the SDP address over another address while learning',
    async (t) => {
      const elsewhere = await peer('127.0.0.2');
      const sameIp = await peer('127.0.0.1');
      const sdpOnly = await peer();
      const sdpPort = sdpOnly.port;
      sdpOnly.close(); // nothing listens at the exact SDP port
      const { s, b } = await setup({ latching: 'heuristic', learnWindowMs: 60_000 }, sdpPort);
      await elsewhere.send(rtpPacket(1), s.a.rtpPort, '127.0.0.1');
      await b.next();
      await sameIp.send(rtpPacket(2), s.a.rtpPort);
      await b.next();
      await elsewhere.send(rtpPacket(3), s.a.rtpPort, '127.0.0.1');
      await b.next();
      await b.send(rtpPacket(4), s.b.rtpPort);
      t.equal((await sameIp.next()).from.port, s.a.rtpPort, 'same-address candidate wins');
      t.equal(elsewhere.pending, 0);
    },
  );

  t.test('latching off sends to the SDP address whatever the source', async (t) => {
    const sdp = await peer();
    const nat = await peer();
    const { s, b } = await setup({ latching: 'off' }, sdp.port);
    let latchedEvents = 0;
    s.on('latched', () => latchedEvents++);
    await nat.send(rtpPacket(1), s.a.rtpPort);
    await b.next();
    await b.send(rtpPacket(2), s.b.rtpPort);
    t.equal((await sdp.next()).from.port, s.a.rtpPort);
    t.equal(nat.pending, 0);
    t.equal(latchedEvents, 0);
  });

  t.test('strict source drops packets from other sources after latching', async (t) => {
    const first = await peer();
    const intruder = await peer();
    const { s, b } = await setup({ latching: 'immediate', strictSource: true }, first.port);
    await first.send(rtpPacket(1), s.a.rtpPort);
    await b.next();
    await intruder.send(rtpPacket(666, { payload: 0x66 }), s.a.rtpPort);
    await first.send(rtpPacket(2), s.a.rtpPort);
    const got = await b.next();
    t.same(got.data, rtpPacket(2), 'the intruder packet was not forwarded');
    t.equal(s.stats().a.dropped.unexpectedSource, 1);
    await b.send(rtpPacket(3), s.b.rtpPort);
    t.equal((await first.next()).from.port, s.a.rtpPort);
    t.equal(intruder.pending, 0);
  });

  t.test('strict source with latching off accepts only the SDP source', async (t) => {
    const sdp = await peer();
    const other = await peer();
    const { s, b } = await setup({ latching: 'off', strictSource: true }, sdp.port);
    await other.send(rtpPacket(1), s.a.rtpPort);
    await sdp.send(rtpPacket(2), s.a.rtpPort);
    t.same((await b.next()).data, rtpPacket(2));
    t.equal(s.stats().a.dropped.unexpectedSource, 1);
  });

  t.test('a new source after latching is re-learned and reported', async (t) => {
    const first = await peer();
    const moved = await peer();
    const { s, b } = await setup({ latching: 'immediate', sourceChange: 'relearn' }, first.port);
    await first.send(rtpPacket(1), s.a.rtpPort);
    await b.next();
    const changed = nextEvent<[SourceChangedEvent]>(s, 'sourceChanged');
    await moved.send(rtpPacket(2), s.a.rtpPort);
    const [ev] = await changed;
    t.same(ev, {
      side: 'a',
      channel: 'rtp',
      address: '127.0.0.1',
      port: moved.port,
      from: { address: '127.0.0.1', port: first.port },
    });
    await b.next();
    await b.send(rtpPacket(3), s.b.rtpPort);
    t.equal((await moved.next()).from.port, s.a.rtpPort, 'media follows the new source');
    t.equal(first.pending, 0);
  });

  t.test('a new source after latching is dropped when the session says drop', async (t) => {
    const first = await peer();
    const moved = await peer();
    const { s, b } = await setup({ latching: 'immediate', sourceChange: 'drop' }, first.port);
    let changes = 0;
    s.on('sourceChanged', () => changes++);
    await first.send(rtpPacket(1), s.a.rtpPort);
    await b.next();
    await moved.send(rtpPacket(2), s.a.rtpPort);
    await first.send(rtpPacket(3), s.a.rtpPort);
    t.same((await b.next()).data, rtpPacket(3));
    await b.send(rtpPacket(4), s.b.rtpPort);
    t.equal((await first.next()).from.port, s.a.rtpPort);
    t.equal(changes, 0);
    t.equal(s.stats().a.dropped.unexpectedSource, 1);
  });

  t.test('a new SDP address restarts latching (re-INVITE)', async (t) => {
    const first = await peer();
    const second = await peer();
    const { s, b } = await setup({ latching: 'immediate', strictSource: true }, first.port);
    const firstLatch = nextEvent<[LatchedEvent]>(s, 'latched');
    await first.send(rtpPacket(1), s.a.rtpPort);
    await b.next();
    t.equal((await firstLatch)[0].port, first.port);
    s.setRemote('a', { address: '127.0.0.1', rtpPort: second.port });
    t.equal(s.stats().a.latched, undefined, 'latch cleared');
    const latched = nextEvent<[LatchedEvent]>(s, 'latched');
    await second.send(rtpPacket(2), s.a.rtpPort);
    t.equal((await latched)[0].port, second.port);
    await b.next();
    await b.send(rtpPacket(3), s.b.rtpPort);
    t.equal((await second.next()).from.port, s.a.rtpPort);
  });

  t.test('events reach relay-wide listeners with their session', async (t) => {
    const src = await peer();
    const { s } = await setup({ latching: 'immediate' }, src.port);
    const seen = new Promise<LatchedEvent>((resolve) => {
      relay.on('latched', (session, ev) => {
        if (session === s) resolve(ev);
      });
    });
    await src.send(rtpPacket(1), s.a.rtpPort);
    t.equal((await seen).port, src.port);
    await waitFor(() => s.stats().a.packetsIn === 1);
  });
}
