import { createSocket } from 'node:dgram';
import t, { type Test } from 'tap';
import {
  RtpRelay,
  RtpRelayError,
  type ClosedEvent,
  type PortMode,
  type TimeoutEvent,
} from '../src/index.js';
import { PORT_MODES, rangeFor, skipFor } from './support/port-modes.js';
import { nextEvent, rtpPacket, UdpPeer, waitFor } from './support/udp-peer.js';

// Port range of this file: 42000–42999 (sockets mode), 23000–23999 (shared mode).

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

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof RtpRelayError ? e.code : `not an RtpRelayError: ${String(e)}`;
  }
  return undefined;
}

for (const mode of PORT_MODES) {
  t.test(`with ${mode} ports`, { skip: skipFor(mode) }, (t) => {
    suite(t, mode);
    t.end(); // ends once the subtests defined by the suite have run
  });
}

function suite(t: Test, mode: PortMode): void {
  t.test('logs one line at start and reports its mode with a reason', (t) => {
    const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
    const relay = RtpRelay.create({
      ports: rangeFor(mode, 42000, 42099),
      addresses: ['127.0.0.1'],
      kernel: false,
      portMode: mode,
      logger: { info: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg }) },
    });
    t.teardown(() => relay.close());
    t.equal(relay.mode, 'userspace');
    t.match(relay.modeReason, /disabled/);
    t.equal(lines.length, 1);
    t.equal(lines[0]?.obj['mode'], 'userspace');
    t.equal(lines[0]?.obj['portMode'], mode, 'the port mode is in the start line');
    t.match(lines[0]?.obj['portModeReason'], /\S/, 'with its reason');
    const info = relay.info();
    t.equal(info.portMode, mode);
    t.equal(info.portModeReason, relay.portModeReason);
    t.equal(info.ports.total, 50);
    t.equal(info.ports.free, 50);
    t.ok(info.threads >= 1);
    t.ok(
      info.fileLimit === undefined || info.fileLimit > 1024,
      'open-file limit raised or reported',
    );
    t.end();
  });

  t.test('a relay whose kernel path cannot start runs in userspace and says why', (t) => {
    // A missing interface makes the kernel path fail without touching the machine's links.
    const relay = RtpRelay.create({
      ports: rangeFor(mode, 42100, 42199),
      addresses: ['127.0.0.1'],
      kernel: { interfaces: ['sb-missing0'] },
      portMode: mode,
    });
    t.teardown(() => relay.close());
    t.equal(relay.mode, 'userspace');
    t.ok(relay.modeReason.length > 0, relay.modeReason);
    t.equal(relay.info().modeReason, relay.modeReason);
    t.end();
  });

  t.test(
    'closing a session frees its ports for anyone to bind, and closing twice is harmless',
    async (t) => {
      const relay = RtpRelay.create({
        ports: rangeFor(mode, 42200, 42299),
        addresses: ['127.0.0.1'],
        kernel: false,
        portMode: mode,
      });
      t.teardown(() => relay.close());
      const s = relay.createSession();
      const ports = [s.a.rtpPort, s.a.rtcpPort ?? 0, s.b.rtpPort, s.b.rtcpPort ?? 0];
      // Shared mode holds no socket on its ports (the shared-ports tests cover them).
      if (mode === 'sockets') {
        for (const p of ports)
          t.notOk(await bindable(p, '127.0.0.1'), `port ${p} is held while open`);
      }
      const closed = nextEvent<[ClosedEvent]>(s, 'closed');
      s.close();
      s.close();
      // close() queues the close to the relay thread; 'closed' says the sockets are gone.
      t.same((await closed)[0], { reason: 'closed' });
      for (const p of ports) t.ok(await bindable(p, '127.0.0.1'), `port ${p} is free after close`);
      t.ok(s.closed);
      t.equal(relay.info().ports.free, 50);
    },
  );

  t.test('a closed session rejects calls with RTP_ERR_SESSION_CLOSED', (t) => {
    const relay = RtpRelay.create({
      ports: rangeFor(mode, 42300, 42399),
      addresses: ['127.0.0.1'],
      kernel: false,
      portMode: mode,
    });
    t.teardown(() => relay.close());
    const s = relay.createSession();
    s.close();
    t.equal(
      codeOf(() => s.stats()),
      'RTP_ERR_SESSION_CLOSED',
    );
    t.equal(
      codeOf(() => s.setRemote('a', { address: '127.0.0.1', rtpPort: 5000 })),
      'RTP_ERR_SESSION_CLOSED',
    );
    t.end();
  });

  t.test('bad remote addresses are rejected with RTP_ERR_BAD_ADDRESS', (t) => {
    const relay = RtpRelay.create({
      ports: rangeFor(mode, 42400, 42499),
      addresses: ['127.0.0.1'],
      kernel: false,
      portMode: mode,
    });
    t.teardown(() => relay.close());
    const s = relay.createSession();
    t.teardown(() => s.close());
    for (const remote of [
      { address: 'sip.example.com', rtpPort: 4000 },
      { address: '127.0.0.1', rtpPort: 0 },
      { address: '127.0.0.1', rtpPort: 70000 },
      { address: '127.0.0.1', rtpPort: 4000, rtcpPort: 99999 },
      { address: '0.0.0.0', rtpPort: 4000 },
      { address: '::1', rtpPort: 4000 },
      { address: '127.0.0.1', rtpPort: 4000.5 },
    ]) {
      t.equal(
        codeOf(() => s.setRemote('a', remote)),
        'RTP_ERR_BAD_ADDRESS',
        JSON.stringify(remote),
      );
    }
    t.equal(
      codeOf(() => s.setRemote('c' as 'a', { address: '127.0.0.1', rtpPort: 4000 })),
      'RTP_ERR_BAD_OPTION',
    );
    t.end();
  });

  t.test(
    'an exhausted port range rejects with RTP_ERR_PORTS_EXHAUSTED until a session closes',
    (t) => {
      const relay = RtpRelay.create({
        ports: rangeFor(mode, 42500, 42503),
        addresses: ['127.0.0.1'],
        kernel: false,
        portMode: mode,
      });
      t.teardown(() => relay.close());
      const first = relay.createSession();
      t.equal(
        codeOf(() => relay.createSession()),
        'RTP_ERR_PORTS_EXHAUSTED',
      );
      t.equal(relay.info().ports.free, 0, 'a failed create gives back what it took');
      first.close();
      const second = relay.createSession();
      t.teardown(() => second.close());
      const { min, max } = rangeFor(mode, 42500, 42503);
      t.ok(second.a.rtpPort >= min && second.b.rtpPort <= max - 1);
      t.end();
    },
  );

  t.test(
    'ports held by another program are skipped, and a fully held range fails with RTP_ERR_BIND',
    async (t) => {
      const held = rangeFor(mode, 42600, 42605).min;
      const squatter = await UdpPeer.open('127.0.0.1', held);
      t.teardown(() => squatter.close());
      const relay = RtpRelay.create({
        ports: rangeFor(mode, 42600, 42605),
        addresses: ['127.0.0.1'],
        kernel: false,
        portMode: mode,
      });
      t.teardown(() => relay.close());
      const s = relay.createSession();
      t.notSame([s.a.rtpPort, s.b.rtpPort].includes(held), true, 'held pair skipped');
      s.close();
      const tiny = RtpRelay.create({
        ports: rangeFor(mode, 42600, 42601),
        addresses: ['127.0.0.1'],
        kernel: false,
        portMode: mode,
      });
      t.teardown(() => tiny.close());
      t.equal(
        codeOf(() => tiny.createSession()),
        'RTP_ERR_BIND',
      );
    },
  );

  t.test('bad relay options are rejected with typed errors', (t) => {
    t.equal(
      codeOf(() => RtpRelay.create({ ports: { min: 42900, max: 42800 }, kernel: false })),
      'RTP_ERR_BAD_OPTION',
    );
    t.equal(
      codeOf(() => RtpRelay.create({ ports: { min: 42900, max: 70000 }, kernel: false })),
      'RTP_ERR_BAD_OPTION',
    );
    t.equal(
      codeOf(() => RtpRelay.create({ addresses: ['not-an-ip'], kernel: false })),
      'RTP_ERR_BAD_ADDRESS',
    );
    t.equal(
      codeOf(() => RtpRelay.create({ threads: -1, kernel: false })),
      'RTP_ERR_BAD_OPTION',
    );
    t.equal(
      codeOf(() => RtpRelay.create({ portMode: 'some' as PortMode, kernel: false })),
      'RTP_ERR_BAD_OPTION',
    );
    const relay = RtpRelay.create({
      ports: rangeFor(mode, 42700, 42799),
      addresses: ['127.0.0.1'],
      kernel: false,
      portMode: mode,
    });
    t.teardown(() => relay.close());
    t.equal(
      codeOf(() => relay.createSession({ latching: 'sometimes' as 'off' })),
      'RTP_ERR_BAD_OPTION',
    );
    t.equal(
      codeOf(() => relay.createSession({ a: { addressIndex: 3 } })),
      'RTP_ERR_BAD_ADDRESS',
    );
    t.end();
  });

  t.test('a closed relay rejects new sessions and closes the open ones', async (t) => {
    const relay = RtpRelay.create({
      ports: rangeFor(mode, 42800, 42899),
      addresses: ['127.0.0.1'],
      kernel: false,
      portMode: mode,
    });
    const s = relay.createSession();
    const closed = nextEvent<[ClosedEvent]>(s, 'closed');
    relay.close();
    relay.close();
    t.same((await closed)[0], { reason: 'relay-closed' });
    t.ok(s.closed);
    s.close();
    t.equal(
      codeOf(() => relay.createSession()),
      'RTP_ERR_RELAY_CLOSED',
    );
    t.ok(await bindable(s.a.rtpPort, '127.0.0.1'), 'ports released');
  });

  t.test(
    'no media for the timeout fires one timeout event, re-armed when media resumes',
    async (t) => {
      const relay = RtpRelay.create({
        ports: rangeFor(mode, 42900, 42999),
        addresses: ['127.0.0.1'],
        kernel: false,
        portMode: mode,
        timeoutMs: 60_000,
      });
      t.teardown(() => relay.close());
      const peer = await UdpPeer.open();
      t.teardown(() => peer.close());
      const s = relay.createSession({ timeoutMs: 300, latching: 'immediate' });
      t.teardown(() => s.close());
      const events: TimeoutEvent[] = [];
      s.on('timeout', (e) => events.push(e));
      const first = nextEvent<[TimeoutEvent]>(s, 'timeout', 5000);
      const [ev] = await first;
      t.ok(ev.idleMs >= 300, `idle ${ev.idleMs} ms is at least the timeout`);
      await peer.send(rtpPacket(1), s.a.rtpPort);
      await waitFor(() => s.stats().a.packetsIn === 1);
      await nextEvent<[TimeoutEvent]>(s, 'timeout', 5000);
      t.equal(events.length, 2, 'one event per silence');
    },
  );
}
