import type { DnsNaptrRecord, DnsSrvRecord } from './dns-resolver.js';

/**
 * RFC 2782 ordering: ascending priority; within a priority, repeated weighted random selection
 * (zero-weight records first in the list, running sums, uniform number in [0, sum]).
 * `random` returns [0, 1) and is injected so tests are deterministic.
 */
export function orderSrvRecords(
  records: readonly DnsSrvRecord[],
  random: () => number = Math.random,
): DnsSrvRecord[] {
  const byPriority = new Map<number, DnsSrvRecord[]>();
  for (const r of records) {
    const group = byPriority.get(r.priority);
    if (group === undefined) byPriority.set(r.priority, [r]);
    else group.push(r);
  }
  const out: DnsSrvRecord[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    const group = byPriority.get(priority) ?? [];
    // RFC 2782: "arrange all SRV RRs (that have not been ordered yet) in any order, except that all
    // those with weight 0 are placed at the beginning of the list"
    const pool = [...group.filter((r) => r.weight === 0), ...group.filter((r) => r.weight !== 0)];
    while (pool.length > 0) {
      const sum = pool.reduce((s, r) => s + Math.max(0, r.weight), 0);
      const pick = Math.floor(random() * (sum + 1));
      let running = 0;
      let index = pool.length - 1;
      for (let i = 0; i < pool.length; i++) {
        running += Math.max(0, (pool[i] as DnsSrvRecord).weight);
        if (running >= pick) {
          index = i;
          break;
        }
      }
      out.push(...pool.splice(index, 1));
    }
  }
  return out;
}

/** RFC 3403 §4.1 / RFC 3263 §4.1: ascending order, then ascending preference (stable). */
export function orderNaptrRecords(records: readonly DnsNaptrRecord[]): DnsNaptrRecord[] {
  return [...records].sort((a, b) => a.order - b.order || a.preference - b.preference);
}
