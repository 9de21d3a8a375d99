#!/usr/bin/env node
// How long the native relay's control calls block the event loop (a benchmark, not a test).
// Per session: createSession, setRemote on both sides, a few RTP packets each way (awaited at the
// far peer), close. Reports median / p99 / max µs per call type. Bounded in count and time.
//
//   node bench/relay/api-latency.mjs [--sessions 2000] [--packets 2] [--mode auto|shared|sockets]
//                                    [--kernel] [--runs 1] [--busy 0]
// --busy N spins N extra threads for the run, as a loaded machine (the B2BUA benchmark) does: a
// call that waits for a relay thread then waits for the scheduler too.
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { RtpRelay } from '../../packages/rtp-relay-native/dist/index.js';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '2000' },
    packets: { type: 'string', default: '2' },
    mode: { type: 'string', default: 'auto' },
    kernel: { type: 'boolean', default: false },
    runs: { type: 'string', default: '1' },
    busy: { type: 'string', default: '0' },
  },
});
const sessions = Math.min(Number(values.sessions), 100_000);
const packets = Math.min(Number(values.packets), 50);
const runs = Math.min(Number(values.runs), 20);
const busy = Math.min(Number(values.busy), 4);
const DEADLINE_MS = 120_000;
const WAIT_MS = 200;

function rtp(seq) {
  const b = Buffer.alloc(172);
  b[0] = 0x80;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(0x1234, 8);
  return b;
}

/** A UDP peer on 127.0.0.1 that counts what it receives. */
async function peer() {
  const s = createSocket('udp4');
  await new Promise((resolve) => s.bind(0, '127.0.0.1', resolve));
  const p = { socket: s, port: s.address().port, got: 0, waiters: [] };
  s.on('message', () => {
    p.got++;
    for (const w of p.waiters.splice(0)) w();
  });
  return p;
}

function arrived(p, count) {
  if (p.got >= count) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), WAIT_MS);
    const check = () => {
      if (p.got >= count) {
        clearTimeout(timer);
        resolve(true);
      } else p.waiters.push(check);
    };
    p.waiters.push(check);
  });
}

function send(p, buf, port) {
  return new Promise((resolve) => p.socket.send(buf, port, '127.0.0.1', () => resolve()));
}

function timed(samples, fn) {
  const t0 = process.hrtime.bigint();
  const r = fn();
  samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  return r;
}

function summary(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { median: at(0.5), mean, p99: at(0.99), max: s[s.length - 1] ?? NaN, n: s.length };
}

/** Threads that spin until terminated (at most DEADLINE_MS). */
function spinners(n) {
  const code = `const end = Date.now() + ${DEADLINE_MS}; while (Date.now() < end) {}`;
  return Array.from({ length: n }, () => new Worker(code, { eval: true }));
}

async function run() {
  const relay = RtpRelay.create({
    addresses: ['127.0.0.1'],
    // Below the ephemeral range, so a peer's port never lands in it in shared mode.
    ports: { min: 20000, max: 23999 },
    portMode: values.mode,
    kernel: values.kernel,
    threads: 2,
  });
  const pa = await peer();
  const pb = await peer();
  const t = { createSession: [], setRemote: [], close: [] };
  let lost = 0;
  const spin = spinners(busy);
  const started = Date.now();
  for (let i = 0; i < sessions && Date.now() - started < DEADLINE_MS; i++) {
    const s = timed(t.createSession, () => relay.createSession({ latching: 'immediate' }));
    timed(t.setRemote, () => s.setRemote('a', { address: '127.0.0.1', rtpPort: pa.port }));
    timed(t.setRemote, () => s.setRemote('b', { address: '127.0.0.1', rtpPort: pb.port }));
    for (let k = 0; k < packets; k++) {
      const [wa, wb] = [pa.got + 1, pb.got + 1];
      await send(pa, rtp(k), s.a.rtpPort);
      await send(pb, rtp(k), s.b.rtpPort);
      if (!(await arrived(pb, wb))) lost++;
      if (!(await arrived(pa, wa))) lost++;
    }
    timed(t.close, () => s.close());
  }
  await Promise.all(spin.map((w) => w.terminate()));
  const info = relay.info();
  const label = `${relay.portMode} ports, ${relay.mode}`;
  relay.close();
  pa.socket.close();
  pb.socket.close();
  return { label, t, lost, leaked: info.ports.total - info.ports.free };
}

for (let r = 0; r < runs; r++) {
  const { label, t, lost, leaked } = await run();
  const load = busy > 0 ? `, ${busy} busy thread(s)` : '';
  console.log(`run ${r + 1}: ${sessions} sessions, ${packets} packet(s) each way, ${label}${load}`);
  console.log('| call | median µs | mean µs | p99 µs | max µs | calls |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, xs] of Object.entries(t)) {
    const s = summary(xs);
    const f = (v) => v.toFixed(1);
    console.log(`| ${name} | ${f(s.median)} | ${f(s.mean)} | ${f(s.p99)} | ${f(s.max)} | ${s.n} |`);
  }
  console.log(`packets not relayed: ${lost}; pairs in use right after the run: ${leaked}\n`);
}
