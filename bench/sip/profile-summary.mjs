#!/usr/bin/env node
// Summary of a V8 .cpuprofile (node --cpu-prof): the functions with the most self time and the
// most total (inclusive) time, in ms and % of the profile.
//
//   node bench/sip/profile-summary.mjs <file.cpuprofile> [--top 40] [--filter text]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function frameKey(cf) {
  const file = cf.url ? cf.url.replace(/^.*\/(packages|node_modules)\//, '$1/') : '';
  return `${cf.functionName || '(anonymous)'} ${file}${file ? `:${cf.lineNumber + 1}` : ''}`;
}

/** Self and inclusive time (µs) per function, from the samples. */
export function profileTimes(file) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const total = new Map();
  let all = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    all += dt;
    let id = p.samples[i];
    const key = frameKey(byId.get(id).callFrame);
    self.set(key, (self.get(key) ?? 0) + dt);
    const seen = new Set();
    while (id !== undefined) {
      const k = frameKey(byId.get(id).callFrame);
      if (!seen.has(k)) {
        seen.add(k);
        total.set(k, (total.get(k) ?? 0) + dt);
      }
      id = parent.get(id);
    }
  }
  return { self, total, all };
}

export function summarize(file, { top = 40, filter } = {}) {
  const { self, total, all } = profileTimes(file);
  const idle = self.get('(idle) ') ?? 0;
  const busy = all - idle;
  const rows = (m) =>
    [...m]
      .filter(([k]) => filter === undefined || k.includes(filter))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([k, us]) =>
          `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${k}`,
      );
  return [
    `profile ${(all / 1e6).toFixed(1)} s, busy (not idle) ${(busy / 1e6).toFixed(1)} s`,
    '--- self time (% of busy) ---',
    ...rows(self),
    '--- total time (% of busy) ---',
    ...rows(total),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const file = args[0];
  const top = args.includes('--top') ? Number(args[args.indexOf('--top') + 1]) : 40;
  const filter = args.includes('--filter') ? args[args.indexOf('--filter') + 1] : undefined;
  if (file === undefined) {
    console.error(
      `usage: node ${path.basename(process.argv[1])} <file.cpuprofile> [--top n] [--filter text]`,
    );
    process.exit(2);
  }
  console.log(summarize(file, { top, filter }));
}
