import t from 'tap';
import { RtpRelay } from '../src/index.js';
import { sessionStats, STATS_SIDE, statsBuffer } from '../src/relay-stats.js';
import { PORT_MODES, rangeFor, skipFor } from './support/port-modes.js';
import { rtpPacket, UdpPeer, waitFor } from './support/udp-peer.js';

// Port range of this file: 48000–48099 (sockets mode), 29000–29099 (shared mode).

const SIDE_KEYS = [
  'packetsIn',
  'bytesIn',
  'packetsOut',
  'bytesOut',
  'kernelPackets',
  'kernelBytes',
  'dropped',
  'rtpExpected',
  'rtpLost',
  'jitter',
  'jitterMs',
  'lastPacketAt',
  'latched',
  'path',
];
const DROP_KEYS = ['garbage', 'notRtp', 'oversize', 'unexpectedSource', 'noRemote', 'sendError'];

t.test('stats decode every field of the native buffer into the documented shape', (t) => {
  const v = statsBuffer();
  t.equal(v.length, 2 * STATS_SIDE);
  v.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 1.5, 1700000000123, 4, 4000], 0);
  v[19] = 0xc0000201; // 192.0.2.1
  v[20] = 1;
  v.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NaN, 6, 5004, 0, 0], STATS_SIDE);
  const s = sessionStats(v, ['', '2001:db8::7']);
  t.same(s.a, {
    packetsIn: 1,
    bytesIn: 2,
    packetsOut: 3,
    bytesOut: 4,
    kernelPackets: 5,
    kernelBytes: 6,
    dropped: {
      garbage: 7,
      notRtp: 8,
      oversize: 9,
      unexpectedSource: 10,
      noRemote: 11,
      sendError: 12,
    },
    rtpExpected: 13,
    rtpLost: 14,
    jitter: 15,
    jitterMs: 1.5,
    lastPacketAt: 1700000000123,
    latched: { address: '192.0.2.1', port: 4000 },
    path: 'kernel',
  });
  t.equal(s.b.lastPacketAt, undefined, 'NaN means no packet yet');
  t.same(s.b.latched, { address: '2001:db8::7', port: 5004 });
  t.equal(s.b.path, 'userspace');
  v[STATS_SIDE + 17] = 0;
  t.equal(sessionStats(v, undefined).b.latched, undefined, 'family 0: not latched');
  t.end();
});

for (const mode of PORT_MODES) {
  t.test(
    `stats keep their shape, before and after traffic (${mode} ports)`,
    { skip: skipFor(mode) },
    async (t) => {
      const relay = RtpRelay.create({
        ports: rangeFor(mode, 48000, 48099),
        addresses: ['127.0.0.1', '::1'],
        kernel: false,
        portMode: mode,
      });
      t.teardown(() => relay.close());
      for (const [address, index] of [
        ['127.0.0.1', 0],
        ['::1', 1],
      ] as const) {
        const [pa, pb] = [await UdpPeer.open(address), await UdpPeer.open(address)];
        t.teardown(() => (pa.close(), pb.close()));
        const s = relay.createSession({
          latching: 'immediate',
          a: { addressIndex: index },
          b: { addressIndex: index },
        });
        t.teardown(() => s.close());
        const fresh = s.stats();
        t.same(Object.keys(fresh), ['a', 'b']);
        for (const side of [fresh.a, fresh.b]) {
          t.same(Object.keys(side), SIDE_KEYS, 'side keys, in order');
          t.same(Object.keys(side.dropped), DROP_KEYS, 'drop keys, in order');
          t.equal(side.lastPacketAt, undefined);
          t.equal(side.latched, undefined);
          t.equal(side.path, 'userspace');
          t.equal(side.packetsIn, 0);
        }
        s.setRemote('a', { address, rtpPort: pa.port });
        s.setRemote('b', { address, rtpPort: pb.port });
        await pa.send(rtpPacket(1), s.a.rtpPort);
        await pb.next();
        await waitFor(() => s.stats().a.latched, 3000, 'the latch in stats');
        const st = s.stats();
        t.same(Object.keys(st.a), SIDE_KEYS);
        t.same(st.a.latched, { address, port: pa.port }, `${address}: latched address as text`);
        t.equal(st.a.packetsIn, 1);
        t.equal(st.b.packetsOut, 1);
        t.equal(typeof st.a.lastPacketAt, 'number');
      }
    },
  );
}
