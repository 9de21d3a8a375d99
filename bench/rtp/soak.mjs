#!/usr/bin/env node
// Session churn soak for the native relay (a benchmark, not a test).
// Holds `--sessions` concurrent sessions, then every second closes the oldest `--rate` and creates
// as many new ones, for `--seconds`. Samples RSS and open file descriptors, and checks that every
// port comes back at the end. Bounded in time; exits by itself.
//
//   node bench/rtp/soak.mjs --sessions 20000 --rate 1000 --seconds 600 [--mode shared|sockets|auto]
import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { RtpRelay } from '../../packages/rtp-relay-native/dist/index.js';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '20000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '600' },
    mode: { type: 'string', default: 'shared' },
    sample: { type: 'string', default: '30' },
  },
});
const target = Number(values.sessions);
const rate = Number(values.rate);
const seconds = Math.min(Number(values.seconds), 3600);
const sampleEvery = Number(values.sample);

const fds = () => readdirSync('/proc/self/fd').length;
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

// Every side takes an even/odd port pair, so 20,000 sessions need 80,000 ports: more than one
// address has. Side A takes its pairs on 127.0.0.2, side B on 127.0.0.3 (loopback aliases no other
// program binds), each from a range of its own.
const relay = RtpRelay.create({
  addresses: ['127.0.0.2', '127.0.0.3'],
  ports: { min: 1100, max: Math.min(65534, 1100 + 2 * (target + rate) + 200) },
  portMode: values.mode,
  kernel: false,
});
console.log(`relay: portMode=${relay.portMode} (${relay.portModeReason})`);

const live = [];
const open = () =>
  live.push(relay.createSession({ a: { addressIndex: 0 }, b: { addressIndex: 1 } }));
const t0 = performance.now();
for (let i = 0; i < target; i++) open();
console.log(`created ${target} sessions in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
global.gc?.();
const base = { fds: fds(), rss: rssMiB() };
console.log(`t=0s sessions=${live.length} fds=${base.fds} rss=${base.rss.toFixed(1)}MiB`);

let created = 0;
let closed = 0;
const samples = [];
for (let s = 1; s <= seconds; s++) {
  const tick = performance.now();
  for (let i = 0; i < rate; i++) {
    live.shift().close();
    closed++;
    open();
    created++;
  }
  const spent = performance.now() - tick;
  if (s % sampleEvery === 0 || s === seconds) {
    global.gc?.();
    const row = { s, fds: fds(), rss: rssMiB(), spentMs: spent };
    samples.push(row);
    console.log(
      `t=${s}s sessions=${live.length} fds=${row.fds} rss=${row.rss.toFixed(1)}MiB churn=${spent.toFixed(0)}ms/s`,
    );
  }
  await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - tick))));
}
for (const x of live.splice(0)) x.close();
const info = relay.info();
relay.close();
const last = samples.at(-1) ?? { fds: base.fds, rss: base.rss };
const mid = samples[Math.floor(samples.length / 2)] ?? last;
console.log(
  JSON.stringify({
    sessions: target,
    rate,
    seconds,
    created,
    closed,
    portMode: info.portMode,
    fds: { start: base.fds, mid: mid.fds, end: last.fds },
    rssMiB: { start: +base.rss.toFixed(1), mid: +mid.rss.toFixed(1), end: +last.rss.toFixed(1) },
  }),
);
