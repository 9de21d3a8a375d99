// Failure breakdown from SIPp's error log (-trace_err, -error_file): every event SIPp records
// (a receive timeout, an unexpected message, a message for a call already over) reduced to one
// class line, counted. Used by the runner to say *why* calls failed, not only how many.
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** "2026-11-21	12:44:54.992104	1795265094.992104: " starts each event (tab separated). */
const EVENT = /^'?\d{4}-\d\d-\d\d\t[\d:.]+\t[\d.]+: (.*)$/;

/** The first line of a quoted SIP message: "SIP/2.0 407 Proxy ..." → "407", "BYE sip:..." → "BYE". */
function firstLine(text) {
  const m = /^'?(?:SIP\/2\.0 (\d{3})|([A-Z]+) )/.exec(text);
  return m?.[1] ?? m?.[2] ?? '?';
}

/** One event text → a class, or undefined for lines SIPp prints that are not failures. */
export function classify(text) {
  let m =
    /^Dead call \S+ \((successful|aborted) at index \d+\)|^Dead call \S+ \((successful|aborted)\)/.exec(
      text,
    );
  if (m) {
    const how = m[1] ?? m[2];
    const got = firstLine(text.slice(text.indexOf("received '") + 10));
    return `late ${got} after the call was ${how === 'successful' ? 'done' : 'aborted'}`;
  }
  m =
    /^Aborting call on unexpected message for Call-Id '[^']*': while expecting '([^']*)' \(index (\d+)\), received '(.*)$/.exec(
      text,
    );
  if (m) return `unexpected ${firstLine(m[3])} while expecting ${m[1]} (index ${m[2]})`;
  if (text.startsWith('Aborting call on an unexpected BYE')) return 'unexpected BYE (call aborted)';
  m = /receive timeout on message [^:]*:(\d+)/.exec(text);
  if (m) return `receive timeout at index ${m[1]}`;
  m = /^Max Retrans[^:]*: (.*)|retransmission.*? (\d+) times/i.exec(text);
  if (m) return 'max UDP retransmissions';
  if (text.startsWith('Overload warning')) return 'SIPp overload warning (its own watchdog)';
  return text.slice(0, 80).replace(/\d+/g, 'N');
}

/**
 * Counts of each class in a SIPp error log, most frequent first, and the first and last time
 * (epoch s) each class was seen; only events between `since` and `until` (epoch s: the UAS's log
 * spans many steps). Missing file → empty list.
 */
export async function readErrors(file, { since = 0, until = Infinity } = {}) {
  if (file === undefined || !existsSync(file)) return [];
  const counts = new Map();
  const lines = createInterface({ input: createReadStream(file, 'latin1'), crlfDelay: Infinity });
  for await (const line of lines) {
    // SIPp writes a quoted message after each event: an event can follow the closing quote.
    const at = line.search(/\d{4}-\d\d-\d\d\t/);
    if (at < 0) continue;
    const m = EVENT.exec(line.slice(at));
    if (!m) continue;
    const t = Number(/\t([\d.]+): /.exec(line.slice(at))?.[1]);
    if (t < since || t > until) continue;
    const k = classify(m[1]);
    const c = counts.get(k) ?? { count: 0, first: t, last: t };
    c.count++;
    c.last = t;
    counts.set(k, c);
  }
  return [...counts.entries()]
    .map(([what, c]) => ({ what, ...c }))
    .sort((a, b) => b.count - a.count);
}

/** Printable lines: "  <side>: <count> × <class> (first +Ns, last +Ns)". */
export function errorLines(side, rows, t0, max = 12) {
  return rows.slice(0, max).map((r) => {
    const rel = (t) => (Number.isFinite(t) && t0 ? `+${(t - t0).toFixed(1)}s` : '?');
    return `    ${side}: ${r.count} × ${r.what} (first ${rel(r.first)}, last ${rel(r.last)})`;
  });
}
