// Preloaded into the server under test (`node --import loop-monitor.mjs`, run.mjs --monitor):
// every interval it appends one JSON line to $SB_LOOP_LOG with the event loop delay (p50, p99,
// max), the GC pauses of the interval by kind (count, total, max ms), the longest pauses, and
// the heap. It measures stalls instead of guessing them; it changes nothing in the server.
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, PerformanceObserver, constants } from 'node:perf_hooks';
import v8 from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';

const file = process.env.SB_LOOP_LOG;
const everyMs = Number(process.env.SB_LOOP_EVERY_MS ?? 10000);

const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

if (file !== undefined) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let gc = {};
  let longest = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = KINDS[e.detail?.kind ?? e.kind] ?? 'other';
      const g = (gc[kind] ??= { n: 0, ms: 0, max: 0 });
      g.n++;
      g.ms += e.duration;
      g.max = Math.max(g.max, e.duration);
      if (e.duration >= 5) longest.push({ kind, ms: +e.duration.toFixed(1) });
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const t0 = Date.now();
  // Stalls: a 10 ms ticker that is late by more than 100 ms records when (s since start) and how long.
  let stalls = [];
  let tick = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - tick > 110)
      stalls.push({ at: +((Date.now() - t0) / 1000).toFixed(2), ms: Math.round(now - tick - 10) });
    tick = now;
  }, 10).unref();
  // SQLite transactions on this thread (better-sqlite3 `db.transaction(fn)()`): count, total, max ms.
  let sql = { n: 0, ms: 0, max: 0 };
  try {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const req = createRequire(path.join(here, '..', '..', 'packages', 'control', 'package.json'));
    const Database = req('better-sqlite3');
    const make = Database.prototype.transaction;
    Database.prototype.transaction = function (fn) {
      const txn = make.call(this, fn);
      const timed = function (...args) {
        const a = performance.now();
        try {
          return txn.apply(this, args);
        } finally {
          const d = performance.now() - a;
          sql.n++;
          sql.ms += d;
          sql.max = Math.max(sql.max, d);
        }
      };
      for (const k of ['deferred', 'immediate', 'exclusive']) timed[k] = txn[k];
      return timed;
    };
  } catch {}
  const timer = setInterval(() => {
    const heap = v8.getHeapStatistics();
    const ms = (ns) => +(ns / 1e6).toFixed(1);
    const line = {
      t: Math.round((Date.now() - t0) / 1000),
      thread: isMainThread ? 'main' : `worker ${threadId}`,
      loop: {
        p50: ms(delay.percentile(50)),
        p99: ms(delay.percentile(99)),
        p999: ms(delay.percentile(99.9)),
        max: ms(delay.max),
        over20: null,
      },
      gc: Object.fromEntries(
        Object.entries(gc).map(([k, g]) => [
          k,
          { n: g.n, ms: +g.ms.toFixed(1), max: +g.max.toFixed(1) },
        ]),
      ),
      longestGc: longest.sort((a, b) => b.ms - a.ms).slice(0, 5),
      stalls: stalls.slice(0, 10),
      sqlTxn: { n: sql.n, ms: +sql.ms.toFixed(1), max: +sql.max.toFixed(1) },
      heapMiB: +(heap.used_heap_size / 2 ** 20).toFixed(1),
      heapTotalMiB: +(heap.total_heap_size / 2 ** 20).toFixed(1),
      externalMiB: +(process.memoryUsage().external / 2 ** 20).toFixed(1),
      rssMiB: +(process.memoryUsage.rss() / 2 ** 20).toFixed(1),
    };
    delete line.loop.over20;
    appendFileSync(file, `${JSON.stringify(line)}\n`);
    delay.reset();
    gc = {};
    longest = [];
    stalls = [];
    sql = { n: 0, ms: 0, max: 0 };
  }, everyMs);
  timer.unref();
}
