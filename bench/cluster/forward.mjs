// Forwarding cost between SIP workers: the unix-socket mesh (WorkerMesh) against the cluster
// IPC channel (worker → primary → worker). Reports, per forwarded message, the CPU time spent
// by the sending and the receiving worker (and the primary for IPC), the throughput, and the
// one-at-a-time round trip. Not a test.
//
//   node --import tsx bench/cluster/forward.mjs [messages=200000] [batch=64]
import cluster from 'node:cluster';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const N = Number(process.argv[2] ?? 200_000);
const BATCH = Number(process.argv[3] ?? 64);
const PINGS = 5000;
const SAMPLE = Buffer.from(
  [
    'REGISTER sip:demo.switchboard.test SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-524287-1---d8754z-;rport',
    'Max-Forwards: 70',
    'Contact: <sip:1001@127.0.0.1:5070;rinstance=7d9c5bd4c0e0ac5c>',
    'To: <sip:1001@demo.switchboard.test>',
    'From: <sip:1001@demo.switchboard.test>;tag=9fdd6b44',
    'Call-ID: ZTYxZjQ3ZTg2ZmM0NDQ5OGRiZmQ1MmNhMTk0ZjU3YjM',
    'CSeq: 2 REGISTER',
    'Expires: 300',
    'Authorization: Digest username="1001",realm="demo.switchboard.test",nonce="AAAAAGZ7y4e8hC0u1ZVd2dXb4eJ0H1s",uri="sip:demo.switchboard.test",response="0b1ef8c1c1f8f6c1a5e5a8d4c6a1f0de",algorithm=MD5',
    'User-Agent: bench',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
);
const FLOW = 'udp:127.0.0.1:5060->127.0.0.1:5070';
const cpuMs = (u) => (u.user + u.system) / 1000;

async function meshWorker(index, dir) {
  const { WorkerMesh } = await import('../../packages/control/src/cluster/worker-mesh.ts');
  let received = 0;
  let rc0 = 0;
  let onPong;
  const mesh = new WorkerMesh({
    dir,
    index,
    workers: 2,
    handler: {
      onFlowBytes: (kind, id, bytes) => {
        if (bytes.length === 1) {
          if (index === 1)
            mesh.sendFlowBytes(0, 'inbound', id, bytes); // ping → pong
          else onPong?.();
          return;
        }
        if (++received === 1) rc0 = cpuMs(process.cpuUsage());
        if (received === N) process.send({ t: 'received', cpu: cpuMs(process.cpuUsage()) - rc0 });
      },
      onControl: () => undefined,
    },
  });
  await mesh.listen();
  process.send({ t: 'listening' });
  await once('connect');
  await mesh.connect();
  process.send({ t: 'ready' });
  if (index === 1) return;
  await once('go');
  const ping = Buffer.from('p');
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < PINGS; i++) {
    await new Promise((r) => {
      onPong = r;
      mesh.sendFlowBytes(1, 'inbound', FLOW, ping);
    });
  }
  const rtt = Number(process.hrtime.bigint() - t0) / 1000 / PINGS;
  const c0 = cpuMs(process.cpuUsage());
  const t1 = process.hrtime.bigint();
  await send(N, () => mesh.sendFlowBytes(1, 'inbound', FLOW, SAMPLE));
  process.send({ t: 'sent', cpu: cpuMs(process.cpuUsage()) - c0, t1: Number(t1), rtt });
}

async function ipcWorker(index) {
  let received = 0;
  let rc0 = 0;
  let onPong;
  process.on('message', (m) => {
    if (m.t !== 'fwd') return;
    if (m.ping) {
      if (index === 1) process.send({ t: 'fwd', to: 0, ping: true });
      else onPong?.();
      return;
    }
    Buffer.from(m.b, 'latin1');
    if (++received === 1) rc0 = cpuMs(process.cpuUsage());
    if (received === N) process.send({ t: 'received', cpu: cpuMs(process.cpuUsage()) - rc0 });
  });
  process.send({ t: 'listening' });
  await once('connect');
  process.send({ t: 'ready' });
  if (index === 1) return;
  await once('go');
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < PINGS; i++) {
    await new Promise((r) => {
      onPong = r;
      process.send({ t: 'fwd', to: 1, ping: true });
    });
  }
  const rtt = Number(process.hrtime.bigint() - t0) / 1000 / PINGS;
  const c0 = cpuMs(process.cpuUsage());
  const t1 = process.hrtime.bigint();
  await send(N, () => process.send({ t: 'fwd', to: 1, id: FLOW, b: SAMPLE.toString('latin1') }));
  process.send({ t: 'sent', cpu: cpuMs(process.cpuUsage()) - c0, t1: Number(t1), rtt });
}

/** Sends in batches of BATCH per event-loop turn, as a busy worker would. */
async function send(n, one) {
  for (let i = 0; i < n;) {
    for (let k = 0; k < BATCH && i < n; k++, i++) one();
    await new Promise((r) => setImmediate(r));
  }
}

function once(t) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m.t !== t) return;
      process.off('message', on);
      resolve(m);
    };
    process.on('message', on);
  });
}

async function runMode(mode) {
  const dir = mkdtempSync(join(tmpdir(), 'sb-fwd-'));
  const ws = [0, 1].map((i) =>
    cluster.fork({ FWD_MODE: mode, FWD_INDEX: String(i), FWD_DIR: dir }),
  );
  const primaryCpu0 = cpuMs(process.cpuUsage());
  const wait = (w, t) => new Promise((r) => w.on('message', (m) => m.t === t && r(m)));
  if (mode === 'ipc') for (const w of ws) w.on('message', (m) => m.t === 'fwd' && ws[m.to].send(m));
  await Promise.all(ws.map((w) => wait(w, 'listening')));
  const ready = Promise.all(ws.map((w) => wait(w, 'ready')));
  for (const w of ws) w.send({ t: 'connect' });
  await ready;
  const sent = wait(ws[0], 'sent');
  const received = wait(ws[1], 'received');
  const pc0 = cpuMs(process.cpuUsage());
  ws[0].send({ t: 'go' });
  const [s, r] = await Promise.all([sent, received]);
  const wall = (Number(process.hrtime.bigint()) - s.t1) / 1e6;
  const primaryCpu = cpuMs(process.cpuUsage()) - pc0;
  for (const w of ws) w.kill();
  rmSync(dir, { recursive: true, force: true });
  void primaryCpu0;
  return {
    mode,
    messages: N,
    'send µs/msg (cpu)': +((s.cpu * 1000) / N).toFixed(2),
    'receive µs/msg (cpu)': +((r.cpu * 1000) / N).toFixed(2),
    'primary µs/msg (cpu)': mode === 'ipc' ? +((primaryCpu * 1000) / N).toFixed(2) : 0,
    'msgs/s': Math.round(N / (wall / 1000)),
    'round trip µs': +s.rtt.toFixed(1),
  };
}

if (cluster.isPrimary) {
  const rows = [];
  for (const mode of ['mesh', 'ipc']) rows.push(await runMode(mode));
  console.table(rows);
} else {
  const index = Number(process.env.FWD_INDEX);
  if (process.env.FWD_MODE === 'mesh') await meshWorker(index, process.env.FWD_DIR);
  else await ipcWorker(index);
}
