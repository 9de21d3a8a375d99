// Response times from a packet capture on loopback (tcpdump), to the microsecond: SIPp 3.6's
// own clock moves in 4 ms steps here, too coarse for sub-millisecond proxies. For every request
// the target receives from a client (matched by client port, Call-ID and CSeq) the first copy
// starts the clock and the first response of each status stops it; retransmissions are ignored.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { sleep } from './proc-tree.mjs';

export function captureAvailable() {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('tcpdump', ['--version']).status === 0;
}

/** Starts tcpdump on `iface` for UDP to/from `port`; `stop()` ends it (by pid) and parses. */
export async function startCapture({ file, port, iface = 'lo' }) {
  const child = spawn(
    'tcpdump',
    ['-i', iface, '-n', '-s', '700', '-B', '65536', '-w', file, 'udp', 'port', String(port)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = once(child, 'exit');
  for (let i = 0; i < 50 && !/listening on/.test(stderr); i++) await sleep(100);
  return {
    async stop() {
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      const dropped = Number(/(\d+) packets? dropped by kernel/.exec(stderr)?.[1] ?? 0);
      return { ...latencies(readFileSync(file), port), dropped };
    },
  };
}

function* packets(buf) {
  const magic = buf.readUInt32LE(0);
  const nano = magic === 0xa1b23c4d;
  if (magic !== 0xa1b2c3d4 && !nano) throw new Error('not a little-endian pcap file');
  const link = buf.readUInt32LE(20);
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = buf.readUInt32LE(off);
    const frac = buf.readUInt32LE(off + 4);
    const incl = buf.readUInt32LE(off + 8);
    const data = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    let ip = link === 1 ? 14 : link === 113 ? 16 : link === 276 ? 20 : 0;
    if (data.length < ip + 28 || data[ip] >> 4 !== 4) continue; // IPv4 only
    const ihl = (data[ip] & 15) * 4;
    const udp = ip + ihl;
    yield {
      t: sec * 1e6 + (nano ? frac / 1000 : frac),
      src: data.readUInt16BE(udp),
      dst: data.readUInt16BE(udp + 2),
      text: data.subarray(udp + 8).toString('latin1'),
    };
  }
}

const header = (text, re) => re.exec(text)?.[1]?.trim();

/**
 * Samples (µs) keyed `METHOD→status` for requests clients sent to `port`, plus
 * `REGISTER→401→200` (first REGISTER to the 200 of the same Call-ID).
 */
export function latencies(buf, port) {
  const first = new Map();
  const firstOfCall = new Map();
  const seen = new Set();
  const samples = {};
  for (const p of packets(buf)) {
    const callId = header(p.text, /\r\n(?:Call-ID|i)\s*:([^\r\n]*)/i);
    const cseq = header(p.text, /\r\n(?:CSeq)\s*:([^\r\n]*)/i);
    if (callId === undefined || cseq === undefined) continue;
    const isResponse = p.text.startsWith('SIP/2.0 ');
    if (!isResponse && p.dst === port) {
      const key = `${p.src}|${callId}|${cseq}`;
      if (!first.has(key)) first.set(key, p.t);
      if (cseq.endsWith('REGISTER') && !firstOfCall.has(callId)) firstOfCall.set(callId, p.t);
    } else if (isResponse && p.src === port) {
      const key = `${p.dst}|${callId}|${cseq}`;
      const t0 = first.get(key);
      const status = p.text.slice(8, 11);
      const once = `${key}|${status}`;
      if (t0 === undefined || seen.has(once)) continue;
      seen.add(once);
      const method = cseq.split(/\s+/)[1] ?? '?';
      (samples[`${method}→${status}`] ??= []).push(p.t - t0);
      if (method === 'REGISTER' && status === '200' && firstOfCall.has(callId))
        (samples['REGISTER→401→200'] ??= []).push(p.t - firstOfCall.get(callId));
    }
  }
  return { samples };
}

export function percentile(xs, q) {
  if (!xs?.length) return NaN;
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))];
}
