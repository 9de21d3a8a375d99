import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ownString } from '../../src/util/own-string.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
let held = 0;

/** Heap bytes still used after keeping a 20-character tail of each of `n` 20 KB strings. */
function retainedBy(keep: (tail: string) => string, n = 1000): number {
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept: string[] = [];
  for (let i = 0; i < n; i++) {
    const text = `${String(i).padStart(6, '0')}${'y'.repeat(20_000)}tag-1234567890abc`;
    kept.push(keep(text.slice(text.length - 20)));
  }
  gc();
  const used = process.memoryUsage().heapUsed - before;
  // (the kept strings stay reachable until here)
  held += kept.length;
  return used;
}

t.test('the copy equals the string; short strings are returned as they are', (t) => {
  t.equal(ownString(undefined), undefined);
  t.equal(ownString('as1234'), 'as1234');
  const text =
    'INVITE sip:bob@example.com SIP/2.0\r\nTo: <sip:bob@example.com>;tag=8321234356abcdef';
  const tag = text.slice(text.indexOf('tag=') + 4);
  t.equal(ownString(tag), '8321234356abcdef');
  t.end();
});

t.test('a long substring kept through ownString does not keep its source text alive', (t) => {
  const viaSlice = retainedBy((tail) => tail);
  const owned = retainedBy(ownString);
  t.ok(viaSlice > 15_000_000, `plain substrings keep the 20 KB sources (${viaSlice} B)`);
  t.ok(owned < viaSlice / 10, `owned copies do not (${owned} B)`);
  t.equal(held, 2000);
  t.end();
});
