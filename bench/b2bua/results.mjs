// The B2BUA benchmark's report: a markdown table (printed, and with --write put into the
// "B2BUA calls" section of bench/RESULTS.md between its own markers; other sections untouched).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { percentile } from '../sip/capture.mjs';
import { machine } from '../sip/results.mjs';

const BEGIN = '<!-- b2bua:begin -->';
const END = '<!-- b2bua:end -->';
const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '–');

/** SIPp's INVITE→200 p50 / p99 (its clock moves in 4 ms steps). */
function latency(s) {
  const xs = s?.rtt?.['inv-200'];
  return xs?.length ? `${f(percentile(xs, 0.5))} / ${f(percentile(xs, 0.99))}` : '–';
}

/** `res[name]` = { max, best, peak, left, info }. */
export function table(res, names) {
  const base = res['kamailio+rtpengine']?.max;
  const lines = [
    '| target | max calls/s (< 0.1 % failed) | × Kamailio + rtpengine | SIP process CPU at max | media sessions open (peak) | open after the run | INVITE→200 p50 / p99 ms (SIPp) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const name of names) {
    const r = res[name];
    if (r === undefined) continue;
    lines.push(
      `| ${name} | ${f(r.max)} | ${base ? f(r.max / base, 2) : '–'} | ${r.best ? `${f(r.best.cpuPct)} %` : '–'} | ` +
        `${f(r.peak)} | ${f(r.left)} | ${latency(r.best)} |`,
    );
  }
  return lines;
}

export function section(o, res, kamailio) {
  const date = new Date().toISOString().slice(0, 10);
  const infos = o.names.map((n) => `${n}: ${res[n]?.info ?? '–'}`).join('; ');
  return [
    '## B2BUA calls with media anchored (SIPp)',
    '',
    `Measured ${date} on ${machine(kamailio)}.`,
    '',
    `Command: \`${o.command}\``,
    '',
    `Setup: ${o.users} callers in one domain; SIPp UAC → target → SIPp UAS (the carrier trunk), all on`,
    '127.0.0.1 over UDP, one target after the other. A call: INVITE (SDP), 407, ACK, INVITE with',
    `credentials, 180, 200 (SDP), ACK, ${o.holdMs} ms, BYE, 200. Switchboard runs it as a B2BUA (an`,
    '`outbound` route to the trunk; two dialogs, topology hidden) with the offer and answer rewritten',
    'to its native relay (one relay session created and released per call), in',
    `${sbProcesses(o.switchboardWorkers)} with the relay's threads. Kamailio is a stateful`,
    `record-routing proxy with ${o.kamailioChildren ?? 1} UDP worker(s) (children) to the same UAS, with`,
    'rtpengine_manage() anchoring offer and answer on rtpengine',
    '(ng over UDP, 2 threads; userspace forwarding), deleted on BYE. No RTP flows (SIPp sends none):',
    'this measures call set-up and tear-down with media sessions, not packet forwarding.',
    `Ramp: ${o.stepSecs} s steps (SIPp -r, -m = rate × step), doubling from ${o.start}/s, then ${o.refine}`,
    'bisection steps; a step passes with < 0.1 % failed calls (SIPp failures, unfinished calls and',
    'UAS failures) and SIPp finishing on time; after a failed step the target is restarted, so no',
    'step inherits the overload of the one before (a trunk marked down, queues still draining).',
    'CPU: the SIP process tree only (rtpengine not',
    'included). Media sessions: sampled every 250 ms from /metrics (Switchboard) and ng `list`',
    '(rtpengine).',
    `Targets: ${infos}.`,
    '',
    ...table(res, o.names),
    '',
    'Target (issue): at least 1.0× the Kamailio + rtpengine pair in calls per second.',
    '',
  ].join('\n');
}

/** How many SIP processes Switchboard ran (`--switchboard-workers`). */
function sbProcesses(workers) {
  return (workers ?? 1) > 1 ? `${workers} SIP worker processes (and a primary)` : 'one SIP process';
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
