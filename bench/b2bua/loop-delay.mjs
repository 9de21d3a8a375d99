// Loaded into the server with `node --import` by profile.mjs: how late the event loop runs while
// the calls run. Each SIGUSR2 writes { count, p50, p99, max } (ms the loop was late, since the
// previous SIGUSR2) to the file named by SB_LOOP_DELAY_FILE, then starts over.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 5;
const file = process.env.SB_LOOP_DELAY_FILE;
if (file !== undefined) {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  // The histogram holds whole intervals between its timer's runs: the lateness is what exceeds it.
  const late = (ns) => Math.max(0, Math.round(ns / 1e4 - RESOLUTION_MS * 100) / 100);
  process.on('SIGUSR2', () => {
    const out = { count: h.count, p50: late(h.percentile(50)), p99: late(h.percentile(99)) };
    out.max = late(h.max);
    writeFileSync(file, `${JSON.stringify(out)}\n`);
    h.reset();
  });
}
