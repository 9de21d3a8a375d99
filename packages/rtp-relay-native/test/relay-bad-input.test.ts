import t, { type Test } from 'tap';
import { RtpRelay, type PortMode, type RelaySession } from '../src/index.js';
import { PORT_MODES, rangeFor, skipFor } from './support/port-modes.js';
import { rtpPacket, UdpPeer, waitFor } from './support/udp-peer.js';

// Port range of this file: 43000–43999 (sockets mode), 24000–24999 (shared mode).
for (const mode of PORT_MODES) {
  t.test(`with ${mode} ports`, { skip: skipFor(mode) }, (t) => {
    suite(t, mode);
    t.end(); // ends once the subtests defined by the suite have run
  });
}

function suite(t: Test, mode: PortMode): void {
  const range = rangeFor(mode, 43000, 43999);
  const relay = RtpRelay.create({
    ports: range,
    addresses: ['127.0.0.1'],
    kernel: false,
    maxPacketSize: 2048,
    portMode: mode,
  });
  t.teardown(() => relay.close());
  t.equal(relay.portMode, mode, relay.portModeReason);

  const eventsBySession = new Map<number, number>();
  const count = (s: RelaySession): void => {
    eventsBySession.set(s.id, (eventsBySession.get(s.id) ?? 0) + 1);
  };
  relay.on('latched', count).on('sourceChanged', count).on('timeout', count);

  async function setup() {
    const a = await UdpPeer.open();
    const b = await UdpPeer.open();
    const s = relay.createSession({ latching: 'immediate' });
    t.teardown(() => (s.close(), a.close(), b.close()));
    s.setRemote('a', { address: '127.0.0.1', rtpPort: a.port });
    s.setRemote('b', { address: '127.0.0.1', rtpPort: b.port });
    return { s, a, b };
  }

  t.test(
    'garbage, truncated, non-RTP and oversized datagrams are counted and dropped',
    async (t) => {
      const { s, a, b } = await setup();
      const stun = Buffer.from('000100002112a442000000000000000000000000', 'hex');
      await a.send(Buffer.from('hello, this is not media'), s.a.rtpPort);
      await a.send(Buffer.from([0x80]), s.a.rtpPort);
      await a.send(rtpPacket(1).subarray(0, 9), s.a.rtpPort); // truncated header
      await a.send(stun, s.a.rtpPort);
      await a.send(Buffer.alloc(3000, 0x80), s.a.rtpPort);
      await a.send(rtpPacket(2), s.a.rtpPort);
      const got = await b.next();
      t.same(got.data, rtpPacket(2), 'only the valid packet is relayed');
      const d = s.stats().a.dropped;
      t.equal(d.garbage, 2);
      t.equal(d.notRtp, 2);
      t.equal(d.oversize, 1);
      t.equal(s.stats().a.packetsIn, 1);
      t.equal(b.pending, 0);
    },
  );

  t.test('garbage on the RTCP port is not relayed', async (t) => {
    const { s, a, b } = await setup();
    await a.send(rtpPacket(1), s.a.rtcpPort ?? -1); // RTP is not RTCP
    await a.send(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), s.a.rtcpPort ?? -1);
    await waitFor(() => {
      const d = s.stats().a.dropped;
      return d.notRtp + d.garbage === 2;
    });
    t.equal(b.pending, 0);
  });

  t.test('a flood of garbage neither stops media nor reaches JavaScript as events', async (t) => {
    const { s, a, b } = await setup();
    const flooder = await UdpPeer.open();
    t.teardown(() => flooder.close());
    const junk = Buffer.alloc(200, 0xff);
    for (let i = 0; i < 2000; i++) await flooder.send(junk, s.a.rtpPort);
    // Unallocated ports in the range get the flood too; nothing listens there.
    const unused0 = relay.info().unusedPortDrops;
    for (let i = 0; i < 200; i++) await flooder.send(junk, range.max - 1);
    await a.send(rtpPacket(9), s.a.rtpPort);
    t.same((await b.next()).data, rtpPacket(9));
    const garbage = await waitFor(() => {
      const g = s.stats().a.dropped.garbage;
      return g > 0 && g;
    });
    t.ok(garbage <= 2000, `${garbage} garbage datagrams counted`);
    const events = (): number => eventsBySession.get(s.id) ?? 0;
    await waitFor(() => events() >= 1, 3000, 'the latched event');
    t.equal(events(), 1, 'only the latch of the real source became an event');
    const unused = relay.info().unusedPortDrops - unused0;
    if (mode === 'shared') t.ok(unused >= 200, `${unused} packets to an unused port counted`);
    else t.equal(unused, 0, 'sockets mode: the kernel drops them uncounted');
  });
}
