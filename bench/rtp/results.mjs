// Writes the "RTP relay" section of bench/RESULTS.md (other sections are left as they are).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

const HEADING = '## RTP relay';
const BEGIN = '<!-- rtp:begin -->';
const END = '<!-- rtp:end -->';

function tryRun(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return text || 'unknown';
}

const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');

function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const rtpengine = tryRun('rtpengine', ['--version']).replace(/^Version:\s*/, '');
  return (
    `${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, ` +
    `Node ${process.version}, rtpengine ${rtpengine}`
  );
}

function table(summary, loads) {
  const lines = [];
  for (const load of loads) {
    const rows = summary.filter((r) => r.load === load);
    const by = Object.fromEntries(rows.map((r) => [r.mode, r]));
    lines.push(
      `### ${load / 1000}k packets/s offered (${load / 50} streams × 50 pps, 172-byte RTP)`,
      '',
    );
    lines.push(
      '| mode | pps received | system µs/pkt | × direct | attributed µs/pkt | × direct | relay process µs/pkt | × rtpengine | relay % of a core | loss % median / max | runs | load avg |',
    );
    lines.push(
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const r of rows) {
      const xd = by.direct ? r.sysUsPerPkt / by.direct.sysUsPerPkt : NaN;
      const xa = by.direct ? r.attrUsPerPkt / by.direct.attrUsPerPkt : NaN;
      const xr =
        by.rtpengine && r.mode !== 'direct' ? r.relayUsPerPkt / by.rtpengine.relayUsPerPkt : NaN;
      const err = r.errors.length ? ` (${r.errors.length} failed: ${r.errors[0]})` : '';
      lines.push(
        `| ${r.mode} | ${f(r.windowPps, 0)} | ${f(r.sysUsPerPkt)} | ${f(xd)} | ${f(r.attrUsPerPkt)} | ${f(xa)} | ` +
          `${f(r.relayUsPerPkt)} | ${f(xr)} | ${f(r.relayCorePct, 1)} | ${f(r.lossPct, 3)} / ${f(r.maxLossPct, 3)} | ${r.n}${err} | ${f(r.loadavg, 1)} |`,
      );
    }
    lines.push('');
  }
  return lines;
}

export function writeResults(file, summary, o) {
  const date = new Date().toISOString().slice(0, 10);
  const cmd =
    `sudo node bench/rtp/run.mjs --loads ${o.loads.join(',')} --reps ${o.reps} --duration ${o.duration} ` +
    `--modes ${o.modes.join(',')}${o.rtpengineThreads ? ` --rtpengine-threads ${o.rtpengineThreads}` : ''} --write`;
  const modes = summary.filter((r) => r.info).map((r) => `${r.mode}: ${r.info}`);
  const section = [
    HEADING,
    '',
    `Measured ${date} on ${machine()}.`,
    '',
    `Command: \`${cmd}\``,
    '',
    'Setup: three network namespaces, generator (A) → relay (R) → sink (B) over veth pairs; the',
    'generator sends round-robin over all streams from one socket with sendmmsg, the sink counts per',
    'stream (SSRC) with recvmmsg. "direct" routes A → B through R with no relay (the floor).',
    'CPU is measured over the steady-state window (after warm-up, before the last second):',
    'system = all busy jiffies of the machine (/proc/stat) per packet received by the sink, so it',
    'includes the generator, the sink and anything else running; attributed = utime + stime of the',
    'generator, relay and sink processes plus the ksoftirqd threads (softirq work is charged to the',
    'process it interrupts), which other load on the machine disturbs far less; relay process =',
    'utime + stime of the relay process alone (/proc/<pid>/stat). "load avg" is the 1-minute load',
    'during the window: above ~2 on this machine the system column is not trustworthy, and a',
    '"pps received" well below the offered load means the generator itself was starved of CPU',
    '(per-packet figures still hold; the offered rate was not reached).',
    'Medians over the repetitions.',
    '',
    ...table(summary, o.loads),
    `Modes: ${[...new Set(modes)].join('; ')}.`,
    '',
    'Targets (issue): userspace ≤ 0.6× rtpengine relay CPU per packet; kernel mode relay process',
    '< 2% of a core at 100k pps, system CPU per packet ≤ 1.25× direct, no loss.',
    '',
  ].join('\n');
  const block = `${BEGIN}\n${section.trimEnd()}\n${END}\n`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n\n';
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start >= 0 && end > start) {
    text = text.slice(0, start) + block + text.slice(end + END.length).replace(/^\n/, '');
  } else {
    text = `${text.trimEnd()}\n\n${block}`;
  }
  writeFileSync(file, text);
}
