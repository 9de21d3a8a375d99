import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readdirSync } from 'node:fs';
import t, { type Test } from 'tap';
import { RtpRelay, type RelaySession } from '../src/index.js';
import { sharedUnavailable } from './support/port-modes.js';
import { rtpPacket, UdpPeer, waitFor } from './support/udp-peer.js';

// Port ranges of this file: 27000–27299 on 127.0.0.1 and ::1 (below the ephemeral range);
// 10000–30999 on 127.0.0.12–127.0.0.15, which nothing else uses (capacity); 45000–45099
// (sockets mode).
const skip = sharedUnavailable();

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

function bindable(port: number, address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    s.once('error', () => resolve(false));
    s.bind(port, address, () => {
      s.close();
      resolve(true);
    });
  });
}

function sharedRelay(t: Test, min: number, addresses: string[]): RtpRelay {
  const relay = RtpRelay.create({
    ports: { min, max: min + 99 },
    addresses,
    kernel: false,
    portMode: 'shared',
    threads: 2,
  });
  t.teardown(() => relay.close());
  return relay;
}

async function peers(t: Test, address: string): Promise<[UdpPeer, UdpPeer]> {
  const a = await UdpPeer.open(address);
  const b = await UdpPeer.open(address);
  t.teardown(() => (a.close(), b.close()));
  return [a, b];
}

t.test(
  'shared ports relay IPv4 and IPv6 both ways while no socket holds them',
  { skip },
  async (t) => {
    const relay = sharedRelay(t, 27000, ['127.0.0.1', '::1']);
    t.equal(relay.portMode, 'shared');
    t.match(relay.portModeReason, /sk_lookup/);
    for (const [address, index] of [
      ['127.0.0.1', 0],
      ['::1', 1],
    ] as const) {
      const [pa, pb] = await peers(t, address);
      const s = relay.createSession({
        latching: 'off',
        a: { addressIndex: index },
        b: { addressIndex: index },
      });
      t.teardown(() => s.close());
      s.setRemote('a', { address, rtpPort: pa.port });
      s.setRemote('b', { address, rtpPort: pb.port });
      t.ok(await bindable(s.a.rtpPort, address), `nothing is bound to ${address}:${s.a.rtpPort}`);
      await pa.send(rtpPacket(1), s.a.rtpPort);
      const atB = await pb.next();
      t.same(atB.data, rtpPacket(1), `${address}: payload unchanged`);
      t.equal(atB.from.port, s.b.rtpPort, `${address}: leaves from side B's port`);
      t.equal(atB.from.address, address);
      await pb.send(rtpPacket(2), s.b.rtpPort);
      const atA = await pa.next();
      t.equal(atA.from.port, s.a.rtpPort, `${address}: leaves from side A's port`);
      const st = s.stats();
      t.equal(st.a.packetsIn + st.b.packetsIn, 2);
      t.equal(st.a.packetsOut + st.b.packetsOut, 2);
    }
  },
);

t.test(
  'packets to ports no session owns are counted and never reach a session',
  { skip },
  async (t) => {
    const relay = sharedRelay(t, 27100, ['127.0.0.1']);
    const [pa, pb] = await peers(t, '127.0.0.1');
    const s = relay.createSession({ latching: 'off' });
    t.teardown(() => s.close());
    s.setRemote('a', { address: '127.0.0.1', rtpPort: pa.port });
    s.setRemote('b', { address: '127.0.0.1', rtpPort: pb.port });
    const before = relay.info().unusedPortDrops;
    const unused = 27198;
    for (let i = 0; i < 50; i++) await pa.send(rtpPacket(i), unused);
    const counted = await waitFor(() => {
      const n = relay.info().unusedPortDrops - before;
      return n >= 50 && n;
    });
    t.equal(counted, 50, 'each packet to an unused port counted once');
    t.equal(s.stats().a.packetsIn + s.stats().b.packetsIn, 0, 'no session saw them');
    await pa.send(rtpPacket(99), s.a.rtpPort);
    t.same((await pb.next()).data, rtpPacket(99), 'the owned port still relays');
    t.equal(pb.pending, 0);
  },
);

t.test('a port no session owns is left to whichever program binds it', { skip }, async (t) => {
  const relay = sharedRelay(t, 27200, ['127.0.0.1']);
  const s = relay.createSession();
  t.teardown(() => s.close());
  const squatter = await UdpPeer.open('127.0.0.1', 27298);
  const sender = await UdpPeer.open('127.0.0.1');
  t.teardown(() => (squatter.close(), sender.close()));
  await sender.send(rtpPacket(1), 27298);
  t.same((await squatter.next()).data, rtpPacket(1), 'delivered to the program bound there');
  t.not(s.a.rtpPort, 27298);
});

t.test('closing a shared-port session frees its ports at once', { skip }, async (t) => {
  const relay = sharedRelay(t, 27000, ['127.0.0.1']);
  const [pa, pb] = await peers(t, '127.0.0.1');
  const total = relay.info().ports.total;
  const s = relay.createSession({ latching: 'off' });
  s.setRemote('a', { address: '127.0.0.1', rtpPort: pa.port });
  s.setRemote('b', { address: '127.0.0.1', rtpPort: pb.port });
  t.equal(relay.info().ports.free, total - 2);
  s.close();
  t.equal(relay.info().ports.free, total, 'both pairs back in the pool');
  const before = relay.info().unusedPortDrops;
  await pa.send(rtpPacket(1), s.a.rtpPort);
  await waitFor(() => relay.info().unusedPortDrops > before, 3000, 'the drop count');
  t.equal(pb.pending, 0, 'a closed session forwards nothing');
  const again: RelaySession[] = [];
  for (let i = 0; i < total / 2; i++) again.push(relay.createSession());
  t.equal(relay.info().ports.free, 0, 'every pair can be taken again');
  for (const x of again) x.close();
});

t.test(
  '20,000 concurrent shared-port sessions cost no file descriptors',
  { skip, timeout: 110_000 },
  async (t) => {
    const addresses = ['127.0.0.12', '127.0.0.13', '127.0.0.14', '127.0.0.15'];
    const relay = RtpRelay.create({
      ports: { min: 10000, max: 30999 },
      addresses,
      kernel: false,
      portMode: 'shared',
      threads: 2,
    });
    t.teardown(() => relay.close());
    const pa = await UdpPeer.open('127.0.0.1');
    const pb = await UdpPeer.open('127.0.0.1');
    t.teardown(() => (pa.close(), pb.close()));
    const fds0 = openFds();
    const sessions: RelaySession[] = [];
    for (let i = 0; i < 20_000; i++) {
      const a = i % 2;
      sessions.push(relay.createSession({ a: { addressIndex: a }, b: { addressIndex: a + 2 } }));
    }
    const fds1 = openFds();
    t.equal(relay.info().sessions, 20_000);
    t.equal(relay.info().ports.free, relay.info().ports.total - 40_000, '40,000 pairs taken');
    t.ok(fds1 - fds0 <= 2, `fds ${fds0} -> ${fds1} with 20,000 sessions`);

    const last = sessions[sessions.length - 1];
    if (last === undefined) throw new Error('no session');
    last.setRemote('a', { address: '127.0.0.1', rtpPort: pa.port });
    last.setRemote('b', { address: '127.0.0.1', rtpPort: pb.port });
    await pa.send(rtpPacket(1), last.a.rtpPort, last.a.localAddress);
    const got = await pb.next();
    t.equal(got.from.address, last.b.localAddress, 'the 20,000th session relays');
    t.equal(got.from.port, last.b.rtpPort);

    for (const s of sessions) s.close();
    t.equal(relay.info().ports.free, relay.info().ports.total, 'every pair back after close');
    t.ok(openFds() - fds0 <= 2, `fds back to ${openFds()}`);
  },
);

t.test("portMode 'sockets' binds a socket per port and relays as before", async (t) => {
  const relay = RtpRelay.create({
    ports: { min: 45000, max: 45099 },
    addresses: ['127.0.0.1'],
    kernel: false,
    portMode: 'sockets',
  });
  t.teardown(() => relay.close());
  t.equal(relay.portMode, 'sockets');
  t.match(relay.portModeReason, /requested/);
  t.equal(relay.info().unusedPortDrops, 0);
  const [pa, pb] = await peers(t, '127.0.0.1');
  const fds0 = openFds();
  const s = relay.createSession({ latching: 'off' });
  t.teardown(() => s.close());
  t.equal(openFds() - fds0, 4, 'two sockets per side');
  t.notOk(await bindable(s.a.rtpPort, '127.0.0.1'), 'the RTP port is held');
  s.setRemote('a', { address: '127.0.0.1', rtpPort: pa.port });
  s.setRemote('b', { address: '127.0.0.1', rtpPort: pb.port });
  await pa.send(rtpPacket(1), s.a.rtpPort);
  t.equal((await pb.next()).from.port, s.b.rtpPort);
});

const CHILD = `
import { RtpRelay } from './src/index.ts';
const out = {};
const auto = RtpRelay.create({ ports: { min: 45100, max: 45199 }, addresses: ['127.0.0.1'], kernel: false });
out.auto = [auto.portMode, auto.portModeReason];
auto.close();
try {
  RtpRelay.create({ ports: { min: 45200, max: 45299 }, addresses: ['127.0.0.1'], kernel: false, portMode: 'shared' });
} catch (e) { out.shared = e.code; }
console.log(JSON.stringify(out));
`;

t.test(
  'without the privileges, auto falls back to sockets and says why, and shared is refused',
  { skip: process.getuid?.() === 0 ? false : 'needs root to drop capabilities in a child' },
  (t) => {
    let stdout: string;
    try {
      stdout = execFileSync(
        'setpriv',
        [
          '--bounding-set=-bpf,-net_admin,-net_raw,-sys_admin,-perfmon',
          '--',
          process.execPath,
          '--import=tsx',
          '--input-type=module',
          '-e',
          CHILD,
        ],
        { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8', timeout: 30_000 },
      );
    } catch (e) {
      t.comment(`SKIP: cannot run a child without capabilities: ${String(e)}`);
      t.end();
      return;
    }
    const out = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
      auto?: [string, string];
      shared?: string;
    };
    t.equal(out.auto?.[0], 'sockets');
    t.match(out.auto?.[1], /unavailable: .*(CAP_|privilege)/, out.auto?.[1] ?? 'no reason');
    t.equal(out.shared, 'RTP_ERR_UNSUPPORTED');
    t.end();
  },
);
