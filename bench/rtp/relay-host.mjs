// Hosts the Switchboard relay for the benchmark (run with `node --import tsx`, cwd = repo root).
// JSON lines on stdin: {cmd:'create', count, a:'ip:port', b:'ip:port'} | {cmd:'stats'} | {cmd:'close'};
// one JSON line answers each. Prints {ready, mode, kernel} first.
//   relay-host.mjs --kernel on|off --address IP [--ports 20000-59999] [--port-mode sockets|shared|auto]
// (default port mode: SB_BENCH_PORT_MODE or sockets, a socket per port as rtpengine has;
// worker threads: SB_BENCH_RELAY_THREADS or the relay's default, one per core)
import { createInterface } from 'node:readline';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const out = (v) => process.stdout.write(`${JSON.stringify(v)}\n`);
const split = (ep) => {
  const i = ep.lastIndexOf(':');
  return { address: ep.slice(0, i).replace(/^\[|\]$/g, ''), rtpPort: Number(ep.slice(i + 1)) };
};

const { RtpRelay } = await import(
  new URL('../../packages/rtp-relay-native/src/index.ts', import.meta.url).href
);
const [min, max] = opt('ports', '20000-59999').split('-').map(Number);
let relay;
try {
  relay = RtpRelay.create({
    addresses: [opt('address', '127.0.0.1')],
    ports: { min, max },
    timeoutMs: 600000,
    portMode: opt('port-mode', process.env.SB_BENCH_PORT_MODE ?? 'sockets'),
    ...(process.env.SB_BENCH_RELAY_THREADS
      ? { threads: Number(process.env.SB_BENCH_RELAY_THREADS) }
      : {}),
    kernel: opt('kernel', 'on') === 'on' ? { pollMs: 1000 } : false,
  });
} catch (e) {
  out({ error: e.message });
  process.exit(1);
}
out({ ready: true, mode: `${relay.mode}: ${relay.modeReason}`, kernel: relay.mode === 'kernel' });

const sessions = [];
function totals() {
  const t = {
    packetsIn: 0,
    kernelPackets: 0,
    userspaceIn: 0,
    packetsOut: 0,
    dropped: 0,
    kernelSides: 0,
  };
  for (const s of sessions) {
    const st = s.stats();
    for (const side of [st.a, st.b]) {
      t.packetsIn += side.packetsIn;
      t.kernelPackets += side.kernelPackets;
      t.userspaceIn += side.packetsIn - side.kernelPackets;
      t.packetsOut += side.packetsOut;
      t.dropped += Object.values(side.dropped).reduce((a, b) => a + b, 0);
      t.kernelSides += side.path === 'kernel' ? 1 : 0;
    }
  }
  return t;
}

createInterface({ input: process.stdin }).on('line', (line) => {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch {
    return out({ error: 'bad json' });
  }
  try {
    if (cmd.cmd === 'create') {
      const ports = [];
      for (let i = 0; i < cmd.count; i++) {
        // rtcp-mux on both sides (RFC 5761), as the benchmark's SDP says.
        const s = relay.createSession({ a: { rtcpMux: true }, b: { rtcpMux: true } });
        s.setRemote('a', { ...split(cmd.a), rtcpMux: true });
        s.setRemote('b', { ...split(cmd.b), rtcpMux: true });
        sessions.push(s);
        ports.push([s.a.rtpPort, s.b.rtpPort]);
      }
      out({ sessions: ports });
    } else if (cmd.cmd === 'stats') {
      out(totals());
    } else if (cmd.cmd === 'close') {
      for (const s of sessions.splice(0)) s.close();
      relay.close();
      out({ closed: true });
      setTimeout(() => process.exit(0), 50);
    } else {
      out({ error: `unknown command ${cmd.cmd}` });
    }
  } catch (e) {
    out({ error: e.message });
  }
});
