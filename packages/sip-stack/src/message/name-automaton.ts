// A byte automaton over header names (RFC 3261 §7.3.1, §7.3.3): one table read per name byte both
// checks that the name is a token and classifies it as classifyHeaderName would, so the fast scan
// of parseMessage reads each name byte once and never compares names afterwards.

import { HeaderId } from './header-names.js';
import { TOKEN } from './header-values.js';

/** The names classifyHeaderName gives an id to, lower-case (long and compact forms). */
const NAMES: readonly (readonly [string, HeaderId])[] = [
  ['via', HeaderId.via],
  ['v', HeaderId.via],
  ['cseq', HeaderId.cseq],
  ['call-id', HeaderId.callId],
  ['i', HeaderId.callId],
  ['max-forwards', HeaderId.maxForwards],
  ['content-length', HeaderId.contentLength],
  ['l', HeaderId.contentLength],
  ['from', HeaderId.from],
  ['f', HeaderId.from],
  ['to', HeaderId.to],
  ['t', HeaderId.to],
  ['route', HeaderId.route],
  ['record-route', HeaderId.recordRoute],
  ['contact', HeaderId.contact],
  ['m', HeaderId.contact],
];

/** State after a token that is no known name's prefix; 0 is "not a token byte". */
const OTHER = 1;
/** State before the first byte of a name. */
export const NAME_START = 2;

/**
 * A new copy of the automaton: `next[state << 8 | byte]` is the state after `byte`, 0 when `byte`
 * is not a token byte (the name ends there); `id[state]` is the HeaderId of the name that ends in
 * that state (HeaderId.other for none). States fit a byte (the trie of NAMES has under 254
 * nodes). A copy per caller: TurboFan embeds a module's own constant typed arrays, so each hot
 * loop keeps its table in a module-local const.
 */
export function nameAutomaton(): { next: Uint8Array; id: Uint8Array } {
  const next = new Uint8Array(256 * 256);
  const id = new Uint8Array(256);
  const trie = new Map<string, number>([['', NAME_START]]);
  let states = NAME_START + 1;
  for (const [name] of NAMES) {
    for (let k = 1; k <= name.length; k++) {
      const prefix = name.slice(0, k);
      if (!trie.has(prefix)) trie.set(prefix, states++);
    }
  }
  // every token byte leads somewhere: OTHER unless it continues a known name
  for (const st of [OTHER, ...trie.values()]) {
    for (let c = 0; c < 128; c++) if (TOKEN[c] === 1) next[(st << 8) | c] = OTHER;
  }
  for (const [prefix, st] of trie) {
    if (prefix.length === 0) continue;
    const parent = trie.get(prefix.slice(0, -1)) as number;
    const c = prefix.charCodeAt(prefix.length - 1);
    next[(parent << 8) | c] = st;
    // header names are case-insensitive (RFC 3261 §7.3.1)
    if (c >= 97 && c <= 122) next[(parent << 8) | (c - 32)] = st;
  }
  for (const [name, hid] of NAMES) id[trie.get(name) as number] = hid;
  return { next, id };
}

/**
 * The same automaton in the form the fast scan walks (a new copy per caller, as above):
 * `next[state | byte]` with states pre-shifted by 8 (one OR per byte on the serial chain instead
 * of a shift and an OR), and `pair[b0 | b1 << 8]`, the unshifted state after the two bytes b0 b1
 * from NAME_START, 0 when the walk stops at either of them (the first step of a name reads two
 * bytes at once; a caller then walks from NAME_START byte by byte). `id` is indexed by the
 * unshifted state.
 */
export function shiftedNameAutomaton(): { next: Uint16Array; pair: Uint8Array; id: Uint8Array } {
  const { next: byByte, id } = nameAutomaton();
  let states = 0;
  for (let k = 0; k < byByte.length; k++) states = Math.max(states, byByte[k] as number);
  const next = new Uint16Array((states + 1) << 8);
  for (let k = 0; k < next.length; k++) next[k] = (byByte[k] as number) << 8;
  const pair = new Uint8Array(1 << 16);
  for (let b0 = 0; b0 < 256; b0++) {
    const s1 = byByte[(NAME_START << 8) | b0] as number;
    if (s1 === 0) continue;
    for (let b1 = 0; b1 < 256; b1++) pair[b0 | (b1 << 8)] = byByte[(s1 << 8) | b1] as number;
  }
  return { next, pair, id };
}
