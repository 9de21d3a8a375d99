import t, { type Test } from 'tap';
import { RtpRelay, type PortMode, type RelaySession } from '../src/index.js';
import { PORT_MODES, rangeFor, skipFor } from './support/port-modes.js';
import { rtcpPacket, rtpPacket, UdpPeer, waitFor } from './support/udp-peer.js';

// Port range of this file: 40000–40999 (sockets mode), 21000–21999 (shared mode).
for (const mode of PORT_MODES) {
  t.test(`with ${mode} ports`, { skip: skipFor(mode) }, (t) => {
    suite(t, mode);
    t.end(); // ends once the subtests defined by the suite have run
  });
}

function suite(t: Test, mode: PortMode): void {
  const relay = RtpRelay.create({
    ports: rangeFor(mode, 40000, 40999),
    addresses: ['127.0.0.1', '::1'],
    kernel: false,
    portMode: mode,
  });
  t.teardown(() => relay.close());
  t.equal(relay.portMode, mode, relay.portModeReason);

  async function peers(address: string): Promise<[UdpPeer, UdpPeer]> {
    const a = await UdpPeer.open(address);
    const b = await UdpPeer.open(address);
    t.teardown(() => {
      a.close();
      b.close();
    });
    return [a, b];
  }

  function session(opts: Parameters<RtpRelay['createSession']>[0] = {}): RelaySession {
    const s = relay.createSession({ latching: 'off', ...opts });
    t.teardown(() => s.close());
    return s;
  }

  for (const [family, address, index] of [
    ['IPv4', '127.0.0.1', 0],
    ['IPv6', '::1', 1],
  ] as const) {
    t.test(`relays RTP in both directions over ${family}`, async (t) => {
      const [pa, pb] = await peers(address);
      const s = session({ a: { addressIndex: index }, b: { addressIndex: index } });
      t.equal(s.a.localAddress, address);
      t.equal(s.a.rtpPort % 2, 0, 'RTP on an even port');
      t.equal(s.a.rtcpPort, s.a.rtpPort + 1, 'RTCP on the next odd port');
      s.setRemote('a', { address, rtpPort: pa.port });
      s.setRemote('b', { address, rtpPort: pb.port });

      await pa.send(rtpPacket(1), s.a.rtpPort);
      const atB = await pb.next();
      t.equal(atB.from.port, s.b.rtpPort, 'leaves from side B socket');
      t.same(atB.data, rtpPacket(1), 'payload unchanged');

      await pb.send(rtpPacket(7, { ssrc: 99 }), s.b.rtpPort);
      const atA = await pa.next();
      t.equal(atA.from.port, s.a.rtpPort, 'leaves from side A socket');
      t.same(atA.data, rtpPacket(7, { ssrc: 99 }));

      const st = s.stats();
      t.equal(st.a.packetsIn, 1);
      t.equal(st.a.packetsOut, 1);
      t.equal(st.b.packetsIn, 1);
      t.equal(st.b.packetsOut, 1);
      t.equal(st.a.bytesIn, 172);
      t.equal(st.a.path, 'userspace');
    });
  }

  t.test('bridges an IPv4 side to an IPv6 side', async (t) => {
    const pa = await UdpPeer.open('127.0.0.1');
    const pb = await UdpPeer.open('::1');
    t.teardown(() => (pa.close(), pb.close()));
    const s = session({ b: { addressIndex: 1 } });
    s.setRemote('a', { address: '127.0.0.1', rtpPort: pa.port });
    s.setRemote('b', { address: '::1', rtpPort: pb.port });
    await pa.send(rtpPacket(1), s.a.rtpPort);
    const got = await pb.next();
    t.equal(got.from.address, '::1');
    t.equal(got.from.port, s.b.rtpPort);
  });

  t.test('relays RTCP between the odd ports', async (t) => {
    const [pa, pb] = await peers('127.0.0.1');
    const [ra, rb] = await peers('127.0.0.1');
    const s = session();
    s.setRemote('a', { address: '127.0.0.1', rtpPort: pa.port, rtcpPort: ra.port });
    s.setRemote('b', { address: '127.0.0.1', rtpPort: pb.port, rtcpPort: rb.port });
    const rtcpPort = (side: 'a' | 'b'): number => s.side(side).rtcpPort ?? -1;
    await ra.send(rtcpPacket(1), rtcpPort('a'));
    const atB = await rb.next();
    t.equal(atB.from.port, rtcpPort('b'));
    t.same(atB.data, rtcpPacket(1));
    await rb.send(rtcpPacket(2), rtcpPort('b'));
    const atA = await ra.next();
    t.equal(atA.from.port, rtcpPort('a'));
    t.equal(pa.pending + pb.pending, 0, 'nothing leaked onto the RTP sockets');
  });

  t.test('bridges an rtcp-mux side to a side with separate RTCP (RFC 5761)', async (t) => {
    const [pa, pb] = await peers('127.0.0.1');
    const [rb] = await peers('127.0.0.1');
    const s = session({ a: { rtcpMux: true } });
    t.equal(s.a.rtcpPort, undefined, 'single-port side has no RTCP port');
    s.setRemote('a', { address: '127.0.0.1', rtpPort: pa.port, rtcpMux: true });
    s.setRemote('b', { address: '127.0.0.1', rtpPort: pb.port, rtcpPort: rb.port });

    // RTCP arriving muxed on A's only port goes out of B's RTCP port.
    await pa.send(rtcpPacket(5), s.a.rtpPort);
    const rtcpAtB = await rb.next();
    t.equal(rtcpAtB.from.port, s.b.rtcpPort);
    t.same(rtcpAtB.data, rtcpPacket(5));
    // RTP on the same port still goes to B's RTP port.
    await pa.send(rtpPacket(3), s.a.rtpPort);
    const rtpAtB = await pb.next();
    t.equal(rtpAtB.from.port, s.b.rtpPort);
    // B's RTCP is multiplexed onto A's single port.
    await rb.send(rtcpPacket(6), s.b.rtcpPort ?? -1);
    const rtcpAtA = await pa.next();
    t.equal(rtcpAtA.from.port, s.a.rtpPort);
    t.same(rtcpAtA.data, rtcpPacket(6));
  });

  t.test('a side whose remote turns on rtcp-mux gets RTCP on its RTP port', async (t) => {
    const [pa, pb] = await peers('127.0.0.1');
    const s = session();
    s.setRemote('a', { address: '127.0.0.1', rtpPort: pa.port });
    s.setRemote('b', { address: '127.0.0.1', rtpPort: pb.port, rtcpMux: true });
    await pa.send(rtcpPacket(8), s.a.rtcpPort ?? -1);
    const got = await pb.next();
    t.equal(got.from.port, s.b.rtpPort);
    t.same(got.data, rtcpPacket(8));
  });

  t.test('counts loss, jitter, last packet time and the remote per side', async (t) => {
    const [pa, pb] = await peers('127.0.0.1');
    const s = session();
    s.setRemote('a', { address: '127.0.0.1', rtpPort: pa.port });
    s.setRemote('b', { address: '127.0.0.1', rtpPort: pb.port });
    const before = Date.now();
    const seqs = Array.from({ length: 30 }, (_, i) => 100 + i).filter(
      (q) => q !== 110 && q !== 111 && q !== 120,
    );
    for (const q of seqs) await pa.send(rtpPacket(q), s.a.rtpPort);
    for (let i = 0; i < seqs.length; i++) await pb.next();
    const st = await waitFor(() => {
      const x = s.stats();
      return x.a.packetsIn === seqs.length && x;
    });
    t.equal(st.a.rtpLost, 3, 'three sequence numbers missing (RFC 3550 A.3)');
    t.equal(st.a.rtpExpected, 29, 'expected counts from the packet after probation');
    t.ok(st.a.jitter >= 0 && Number.isFinite(st.a.jitterMs), 'jitter reported');
    t.ok((st.a.lastPacketAt ?? 0) >= before - 1000, 'last packet time is wall-clock ms');
    t.equal(st.b.lastPacketAt, undefined, 'no packet from B yet');
    t.equal(st.b.rtpLost, 0);
  });

  t.test('counts a packet towards a side without a remote as dropped (no remote)', async (t) => {
    const [pa] = await peers('127.0.0.1');
    const s = session();
    s.setRemote('a', { address: '127.0.0.1', rtpPort: pa.port });
    await pa.send(rtpPacket(1), s.a.rtpPort);
    const st = await waitFor(() => {
      const x = s.stats();
      return x.a.dropped.noRemote === 1 && x;
    });
    t.equal(st.b.packetsOut, 0);
  });
}
