import t, { type Test } from 'tap';
import { RtpRelay, RtpRelayError, type PortMode } from '../src/index.js';
import { PORT_MODES, rangeFor, skipFor } from './support/port-modes.js';
import { rtpPacket, UdpPeer, waitFor } from './support/udp-peer.js';

// Port range of this file: 47000–47999 (sockets mode), 28000–28999 (shared mode).
// setRemote and close do not wait for the relay threads; these tests pin down what still
// holds the moment they return.

for (const mode of PORT_MODES) {
  t.test(`with ${mode} ports`, { skip: skipFor(mode) }, (t) => {
    suite(t, mode);
    t.end(); // ends once the subtests defined by the suite have run
  });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof RtpRelayError ? e.code : `not an RtpRelayError: ${String(e)}`;
  }
  return undefined;
}

function suite(t: Test, mode: PortMode): void {
  async function peer(): Promise<UdpPeer> {
    const p = await UdpPeer.open('127.0.0.1');
    t.teardown(() => p.close());
    return p;
  }

  t.test('the first packet after setRemote goes to the new remote, every time', async (t) => {
    const relay = RtpRelay.create({
      ports: rangeFor(mode, 47000, 47099),
      addresses: ['127.0.0.1'],
      kernel: false,
      portMode: mode,
    });
    t.teardown(() => relay.close());
    const [pa, b1, b2] = [await peer(), await peer(), await peer()];
    const s = relay.createSession({ latching: 'off' });
    s.setRemote('a', { address: '127.0.0.1', rtpPort: pa.port });
    for (let i = 0; i < 20; i++) {
      const [to, other] = i % 2 === 0 ? [b1, b2] : [b2, b1];
      s.setRemote('b', { address: '127.0.0.1', rtpPort: to.port });
      await pa.send(rtpPacket(i), s.a.rtpPort);
      const got = await to.next();
      t.same(got.data, rtpPacket(i), `packet ${i} reached the remote set just before`);
      t.equal(other.pending, 0, `packet ${i} did not reach the previous remote`);
    }
  });

  t.test(
    'a closed session frees its ports before they are handed out again (create right after close)',
    (t) => {
      // One session's worth of ports: every create takes the pairs the close just gave back.
      const relay = RtpRelay.create({
        ports: rangeFor(mode, 47100, 47103),
        addresses: ['127.0.0.1'],
        kernel: false,
        portMode: mode,
      });
      t.teardown(() => relay.close());
      let s = relay.createSession();
      const first = [s.a.rtpPort, s.b.rtpPort];
      for (let i = 0; i < 50; i++) {
        s.close();
        // In sockets mode the create binds the same ports again: it fails with RTP_ERR_BIND
        // if the old sockets were still open.
        s = relay.createSession();
      }
      t.same([s.a.rtpPort, s.b.rtpPort].sort(), [...first].sort(), 'the same two pairs');
      t.equal(relay.info().sessions, 1);
      s.close();
      t.equal(relay.info().ports.free, 2, 'info() counts the pairs once the close is done');
      t.end();
    },
  );

  t.test('after close returns, stats and setRemote fail and nothing is forwarded', async (t) => {
    const relay = RtpRelay.create({
      ports: rangeFor(mode, 47200, 47299),
      addresses: ['127.0.0.1'],
      kernel: false,
      portMode: mode,
    });
    t.teardown(() => relay.close());
    const [pa, pb] = [await peer(), await peer()];
    const s = relay.createSession({ latching: 'off' });
    s.setRemote('a', { address: '127.0.0.1', rtpPort: pa.port });
    s.setRemote('b', { address: '127.0.0.1', rtpPort: pb.port });
    await pa.send(rtpPacket(1), s.a.rtpPort);
    await pb.next();
    s.close();
    t.equal(
      codeOf(() => s.stats()),
      'RTP_ERR_SESSION_CLOSED',
    );
    t.equal(
      codeOf(() => s.setRemote('b', { address: '127.0.0.1', rtpPort: pa.port })),
      'RTP_ERR_SESSION_CLOSED',
    );
    for (let i = 2; i < 12; i++) await pa.send(rtpPacket(i), s.a.rtpPort);
    // A packet to the port after the close is dropped; wait until the relay is idle.
    await waitFor(() => relay.info().sessions === 0 && relay.info().ports.free === 50);
    await new Promise((r) => setTimeout(r, 100));
    t.equal(pb.pending, 0, `session ${s.id}: nothing forwarded after close`);
  });
}
