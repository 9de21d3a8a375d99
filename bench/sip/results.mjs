// The SIP benchmark's report: a markdown table (printed, and with --write put into the
// "SIP signalling" section of bench/RESULTS.md between markers; other sections are left alone).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { percentile } from './capture.mjs';

const BEGIN = '<!-- sip:begin -->';
const END = '<!-- sip:end -->';
const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const KEY = { register: 'REGISTER→200', call: 'INVITE→200' };
const SIPP_KEY = { register: 'reg-auth', call: 'inv-200' };

/** p50/p99 in ms: from the capture when there is one, else SIPp's (4 ms clock) rtt. */
function lat(s, kind) {
  if (s === undefined) return '–';
  // A latency step that itself failed (> 0.1 %) is marked: its tail is the overload's.
  const mark = s.pass ? '' : ` (failed ${f(100 * s.failedRatio, 1)} %)`;
  const cap = s.latency?.samples?.[KEY[kind]];
  if (cap?.length)
    return `${f(percentile(cap, 0.5) / 1000, 2)} / ${f(percentile(cap, 0.99) / 1000, 2)}${mark}`;
  const rtt = s.rtt?.[SIPP_KEY[kind]];
  if (rtt?.length) return `${f(percentile(rtt, 0.5))} / ${f(percentile(rtt, 0.99))} (SIPp)${mark}`;
  return '–';
}

export function machine(kamailio) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}, ${kamailio}`;
}

/** Rows: one per (kind, target); `res[target][kind]` = { max, best, atMax, atHalfKam }. */
export function table(res, targets, kinds) {
  const lines = [
    '| benchmark | target | max rate /s (< 0.1 % failed) | × Kamailio | target CPU at max | CPU µs per op | memory PSS MiB | processes | p50 / p99 ms at max | p50 / p99 ms at ½ Kamailio max |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const kind of kinds) {
    const kam = res.kamailio?.[kind]?.max;
    for (const t of targets) {
      const r = res[t]?.[kind];
      if (r === undefined) continue;
      const b = r.best;
      const label = kind === 'register' ? 'REGISTER + digest' : 'proxied call (407, INVITE, BYE)';
      lines.push(
        `| ${label} | ${t} | ${f(r.max)} | ${kam ? f(r.max / kam, 2) : '–'} | ${b ? `${f(b.cpuPct)} %` : '–'} | ` +
          `${f(b?.cpuUsPerOp)} | ${f(b?.pssMiB, 1)} | ${f(b?.processes)} | ${lat(r.atMax, kind)} | ${lat(r.atHalfKam, kind)} |`,
      );
    }
  }
  return lines;
}

export function soakLines(soaks) {
  const lines = [];
  for (const [t, s] of Object.entries(soaks)) {
    const st = s.step;
    const pss = s.samples.map((x) => f(x.pssMiB, 1));
    const rss = s.samples.map((x) => f(x.rssMiB, 0));
    // Target CPU % over each sample interval, and the machine's 1-minute load average.
    const cpu = s.samples.slice(1).map((x, i) => {
      const prev = s.samples[i];
      const secs = x.t - prev.t;
      return secs > 0 ? f((100 * (x.cpuTicks - prev.cpuTicks)) / (s.hz ?? 100) / secs) : '–';
    });
    const load = s.samples.map((x) => f(x.load1, 1));
    const every = s.samples[1]?.t - s.samples[0]?.t || '?';
    lines.push(
      `Soak, ${t}: ${s.minutes} min at ${s.rate} calls/s: ${st.ok} calls ok, ${st.failedTotal} failed, ` +
        `${st.retransmissions} retransmissions, ${f(st.udpRcvbufDrops)} UDP datagrams dropped by the kernel (full socket buffers), ` +
        `target CPU ${f(st.cpuPct)} %; every ${every} s: ` +
        `PSS MiB ${pss.join(', ') || '–'}; RSS MiB ${rss.join(', ') || '–'}; ` +
        `CPU % ${cpu.join(', ') || '–'}; load ${load.join(', ') || '–'}.`,
    );
    const why = [
      ...(st.errors ?? []).slice(0, 8).map((e) => `UAC ${e.count} × ${e.what}`),
      ...(st.uasErrors ?? []).slice(0, 8).map((e) => `UAS ${e.count} × ${e.what}`),
    ];
    if (why.length > 0) lines.push(`SIPp error log: ${why.join('; ')}.`);
  }
  return lines;
}

export function section(o, res, soaks, kamailio) {
  const date = new Date().toISOString().slice(0, 10);
  return [
    '## SIP signalling (SIPp)',
    '',
    `Measured ${date} on ${machine(kamailio)}. Load average at start: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}.`,
    '',
    `Command: \`${o.command}\``,
    '',
    `Setup: ${o.users} users in one domain; SIPp client and UAS, and each target in turn, on 127.0.0.1`,
    `over UDP. REGISTER: 401 challenge then authenticated REGISTER (MD5, qop=auth); a call: INVITE,`,
    `407, ACK, INVITE with credentials, 180, 200, ACK, ${o.holdMs} ms, BYE, 200, all through the proxy`,
    '(record-routed) to one registered callee on a SIPp UAS. Media anchoring off (signalling only).',
    `Ramp: ${o.stepSecs} s steps (SIPp -r with -rp 1000, -m = rate × step), doubling from the start rate,`,
    `then ${o.refine} bisection steps; a step passes with < 0.1 % failed calls (SIPp failures, calls left`,
    'unfinished and UAS failures) and SIPp finishing on time; a target that fails a step is restarted',
    'before the next. CPU = utime+stime of the target process tree over the step (/proc), at the',
    'highest passing rate; memory = PSS summed over the tree.',
    `Response times: each point on a restarted target after ${o.latencyWarmSecs} s at the same rate (not`,
    'captured), then one step under a loopback capture (tcpdump), first request to first response,',
    'µs precision; "(SIPp)" marks SIPp\'s own rtt, whose clock moves in 4 ms steps.',
    '',
    ...table(res, o.targetNames, o.kinds),
    '',
    ...soakLines(soaks),
    '',
    'Targets (issue): one worker ≥ 1.0× Kamailio for registrations and calls; two workers ≥ 1.7× one;',
    "p99 at half of Kamailio's max no worse than Kamailio's; 10-minute soak at half the max call rate:",
    'no failed call, flat RSS.',
    '',
  ].join('\n');
}

export function writeResults(file, text) {
  const block = `${BEGIN}\n${text.trimEnd()}\n${END}\n`;
  let doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n\n';
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start >= 0 && end > start)
    doc = doc.slice(0, start) + block + doc.slice(end + END.length).replace(/^\n/, '');
  else doc = `${doc.trimEnd()}\n\n${block}`;
  writeFileSync(file, doc);
}
