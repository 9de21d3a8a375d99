// The eBPF fast path end to end: two hosts in network namespaces, the relay in this namespace.
import t from 'tap';
import type { Test } from 'tap';
import { RtpRelay } from '../../src/index.js';
import type { RelaySession, RelaySessionStats, SourceChangedEvent } from '../../src/index.js';
import { createHosts, eventually, isRoot, Peer } from './support/netns.js';
import type { Hosts } from './support/netns.js';

const needsRoot = isRoot()
  ? false
  : 'needs root: network namespaces and eBPF (run the suite as root)';

/** A port range of our own, so parallel test files never collide. */
function ports(): { min: number; max: number } {
  const min = 42000 + (process.pid % 390) * 20;
  return { min, max: min + 19 };
}

interface Rig {
  hosts: Hosts;
  relay: RtpRelay;
  session: RelaySession;
  pa: Peer;
  pb: Peer;
}

/** Hosts, a kernel-mode relay, one session with both remotes from "SDP", both sides latched. */
async function rig(
  t: Test,
  tag: string,
  interfaces: 'explicit' | 'automatic',
  bind: 'per-host' | 'wildcard' = 'per-host',
): Promise<Rig | undefined> {
  const hosts = createHosts(tag);
  t.teardown(() => hosts.destroy());
  const relay = RtpRelay.create({
    addresses: bind === 'wildcard' ? ['0.0.0.0'] : [hosts.a.local, hosts.b.local],
    ports: ports(),
    threads: 1,
    kernel:
      interfaces === 'explicit'
        ? { interfaces: [hosts.a.link, hosts.b.link], pollMs: 20 }
        : { pollMs: 20 },
  });
  t.teardown(() => relay.close());
  if (relay.mode !== 'kernel' && /not built|clang|SB_BPF_SKIP/.test(relay.modeReason)) {
    t.skip(`kernel path not built into this binary: ${relay.modeReason}`, () => {});
    return undefined;
  }
  t.equal(relay.mode, 'kernel', `relay runs in kernel mode (${relay.modeReason})`);
  const pa = await Peer.start(hosts.a);
  const pb = await Peer.start(hosts.b);
  t.teardown(() => (pa.close(), pb.close()));
  const session = relay.createSession({
    a: { addressIndex: 0 },
    b: { addressIndex: bind === 'wildcard' ? 0 : 1 },
  });
  t.teardown(() => session.close());
  session.setRemote('a', { address: pa.address, rtpPort: pa.port });
  session.setRemote('b', { address: pb.address, rtpPort: pb.port });
  await pb.send(hosts.b.local, session.b.rtpPort, 3);
  await pa.send(hosts.a.local, session.a.rtpPort, 3);
  const installed = await eventually(() => {
    const s = session.stats();
    return s.a.path === 'kernel' && s.b.path === 'kernel';
  });
  t.ok(installed, 'both directions are handed to the kernel once both sides latched');
  return { hosts, relay, session, pa, pb };
}

const userspaceIn = (s: RelaySessionStats, side: 'a' | 'b'): number =>
  s[side].packetsIn - s[side].kernelPackets;

t.test(
  'latched streams are forwarded by the kernel while the userspace counters stay still',
  { skip: needsRoot },
  async (t) => {
    const r = await rig(t, 'fwd', 'explicit');
    if (!r) return;
    const { session, pa, pb, hosts } = r;
    const before = session.stats();
    const bBefore = (await pb.stats()).received;
    const aBefore = (await pa.stats()).received;

    await pa.send(hosts.a.local, session.a.rtpPort, 50);
    await pb.send(hosts.b.local, session.b.rtpPort, 30);
    t.ok(
      await eventually(async () => (await pb.stats()).received >= bBefore + 50),
      "B received A's 50 packets",
    );
    t.ok(
      await eventually(async () => (await pa.stats()).received >= aBefore + 30),
      "A received B's 30 packets",
    );
    const fromRelay = (await pb.stats()).sources[`${hosts.b.local}:${session.b.rtpPort}`] ?? 0;
    t.ok(fromRelay >= 50, "B sees them from the relay's B-side socket");

    t.ok(
      await eventually(() => {
        const s = session.stats();
        return (
          s.a.kernelPackets >= before.a.kernelPackets + 50 &&
          s.b.kernelPackets >= before.b.kernelPackets + 30
        );
      }),
      'the BPF counters appear in the session stats',
    );
    const after = session.stats();
    t.equal(
      userspaceIn(after, 'a'),
      userspaceIn(before, 'a'),
      'no A packet reached the userspace socket',
    );
    t.equal(
      userspaceIn(after, 'b'),
      userspaceIn(before, 'b'),
      'no B packet reached the userspace socket',
    );
    t.ok(
      after.a.packetsIn >= before.a.packetsIn + 50,
      'packetsIn includes kernel-forwarded packets',
    );
    t.ok(after.b.packetsOut >= before.b.packetsOut + 50, 'packetsOut of the other side too');
  },
);

t.test('a new source falls back to userspace and is re-latched', { skip: needsRoot }, async (t) => {
  const r = await rig(t, 'src', 'automatic');
  if (!r) return;
  const { session, pb, hosts } = r;
  const changed: SourceChangedEvent[] = [];
  session.on('sourceChanged', (e) => changed.push(e));
  const before = session.stats();
  const bBefore = (await pb.stats()).received;

  const pa2 = await Peer.start(hosts.a);
  t.teardown(() => pa2.close());
  await pa2.send(hosts.a.local, session.a.rtpPort, 10);
  t.ok(
    await eventually(() => userspaceIn(session.stats(), 'a') > userspaceIn(before, 'a')),
    "the new source's packets reach userspace",
  );
  t.ok(
    await eventually(() => changed.some((e) => e.side === 'a' && e.port === pa2.port)),
    'sourceChanged names the new source',
  );
  t.ok(
    await eventually(async () => (await pb.stats()).received >= bBefore + 10),
    'its packets still reach B',
  );
  const latched = session.stats().a.latched;
  t.same(latched, { address: pa2.address, port: pa2.port }, 'side A is latched to the new source');
});

t.test('closing the session removes the kernel entry', { skip: needsRoot }, async (t) => {
  const r = await rig(t, 'cls', 'explicit');
  if (!r) return;
  const { session, pa, pb, hosts } = r;
  const port = session.a.rtpPort;
  await pa.send(hosts.a.local, port, 5);
  const bBefore = (await pb.stats()).received;
  t.ok(bBefore >= 5, 'forwarding worked before the close');
  session.close();
  await pa.send(hosts.a.local, port, 20);
  // The peer's sends are 1 ms apart: by the last one, a live entry would have forwarded them.
  await pb.stats();
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal((await pb.stats()).received, bBefore, 'nothing is forwarded after close');
});

t.test(
  'a relay bound to the wildcard address (the default) also hands latched streams to the kernel',
  { skip: needsRoot },
  async (t) => {
    const r = await rig(t, 'wild', 'automatic', 'wildcard');
    if (!r) return;
    const { session, pa, pb, hosts } = r;
    const before = session.stats();
    const bBefore = (await pb.stats()).received;
    await pa.send(hosts.a.local, session.a.rtpPort, 40);
    t.ok(
      await eventually(async () => (await pb.stats()).received >= bBefore + 40),
      "B received A's 40 packets",
    );
    const fromRelay = (await pb.stats()).sources[`${hosts.b.local}:${session.b.rtpPort}`] ?? 0;
    t.ok(
      fromRelay >= 40,
      'B sees them from the relay address it was reached at, on the B-side port',
    );
    t.ok(
      await eventually(() => session.stats().a.kernelPackets >= before.a.kernelPackets + 40),
      'the kernel counted them',
    );
    t.equal(userspaceIn(session.stats(), 'a'), userspaceIn(before, 'a'), 'none reached userspace');
  },
);
