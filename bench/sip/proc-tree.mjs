// CPU and memory of a process and its descendants, from /proc (Linux). Kamailio runs as a main
// process with forked children, and Switchboard may fork SIP workers: both are measured whole.
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const HZ = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

function statFields(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The pid and every live descendant. */
export function processTree(root) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(name);
    if (f === undefined) continue;
    const ppid = Number(f[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(name));
  }
  const out = [];
  const todo = [root];
  while (todo.length > 0 && out.length < 10000) {
    const pid = todo.pop();
    if (statFields(pid) === undefined) continue;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** utime + stime (all threads) of one process, in jiffies; 0 when it is gone. */
export function processTicks(pid) {
  const f = statFields(pid);
  return f === undefined ? 0 : Number(f[11]) + Number(f[12]);
}

function kib(text, key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** CPU jiffies, RSS and PSS (KiB) summed over the tree, and how many processes it has. */
export function treeSample(root) {
  const pids = processTree(root);
  let ticks = 0;
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    ticks += processTicks(pid);
    try {
      rss += kib(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
    } catch {}
    try {
      pss += kib(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
    } catch {}
  }
  return { ticks, rssKiB: rss, pssKiB: pss, processes: pids.length, at: performance.now() };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
