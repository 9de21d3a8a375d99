// The header-name automaton of the fast scan must agree with classifyHeaderName on every token
// name (any case, long and compact forms, prefixes and extensions of the known names), and stop
// at the first byte that is not a token byte.
import t from 'tap';
import {
  nameAutomaton,
  shiftedNameAutomaton,
  NAME_START,
} from '../../src/message/name-automaton.js';
import { classifyHeaderName, HeaderId } from '../../src/message/header-names.js';
import { TOKEN } from '../../src/message/header-values.js';

const { next: NAME_NEXT, id: NAME_ID } = nameAutomaton();

/** Walks `name` + ":" through the automaton: [HeaderId, bytes read before it stopped]. */
function walk(name: string): [number, number] {
  const b = Buffer.from(name + ':', 'latin1');
  let st = NAME_START;
  let i = 0;
  for (;;) {
    const next = NAME_NEXT[(st << 8) | (b[i] as number)] as number;
    if (next === 0) break;
    st = next;
    i++;
  }
  return [NAME_ID[st] as number, i];
}

const classify = (name: string): number => {
  const b = Buffer.from(name, 'latin1');
  return classifyHeaderName(b, 0, b.length);
};

const KNOWN = [
  ...['Via', 'CSeq', 'Call-ID', 'Max-Forwards', 'Content-Length', 'From', 'To', 'Route'],
  ...['Record-Route', 'Contact', 'v', 'i', 'l', 'f', 't', 'm'],
];

t.test('name automaton: known names in any case classify as classifyHeaderName does', (t) => {
  for (const name of KNOWN) {
    for (const v of [name, name.toLowerCase(), name.toUpperCase(), swapCase(name)]) {
      const [id, read] = walk(v);
      t.equal(read, v.length, `${v}: reads the whole name`);
      t.equal(id, classify(v), `${v}: same id`);
      t.not(id, HeaderId.other, `${v}: is known`);
    }
  }
  t.end();
});

t.test('name automaton: prefixes, extensions and other tokens are HeaderId.other', (t) => {
  const names = ['Vi', 'Viaa', 'CSe', 'Call-I', 'Call-IDs', 'Content-Type', 'Content-Lengths'];
  names.push('Max-Forward', 'Tox', 'Routes', 'Record-Rout', 'Contacts', 'Subject', 'X-Via', 'a');
  names.push('e', 'k', 'Allow', "a.b!%*_+`'~9", 'User-Agent', 'Session-Expires');
  for (const name of names) {
    const [id, read] = walk(name);
    t.equal(read, name.length, `${name}: a token, read whole`);
    t.equal(id, classify(name), `${name}: same id`);
    t.equal(id, HeaderId.other, `${name}: not a routing header`);
  }
  t.end();
});

t.test('name automaton: the walk stops at the first non-token byte, in every state', (t) => {
  const bytes: number[] = [];
  for (let c = 0; c < 256; c++) if (c >= 128 || TOKEN[c] !== 1) bytes.push(c);
  for (const prefix of ['', 'V', 'Vi', 'Via', 'Content-', 'X']) {
    for (const c of bytes) {
      const b = Buffer.from(prefix + String.fromCharCode(c) + 'x', 'latin1');
      let st = NAME_START;
      let i = 0;
      while (i < b.length) {
        const next = NAME_NEXT[(st << 8) | (b[i] as number)] as number;
        if (next === 0) break;
        st = next;
        i++;
      }
      if (i !== prefix.length) t.fail(`${JSON.stringify(prefix)} + byte ${c}: stopped at ${i}`);
    }
  }
  t.pass('every non-token byte ends the name');
  t.end();
});

t.test('name automaton: 20,000 random token names classify as classifyHeaderName does', (t) => {
  const letters = 'viaVIAcseqCSEQllmMfFtT-dDrRoOuUeEnNgGhHxX.!1';
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let bad = 0;
  for (let k = 0; k < 20000; k++) {
    let name = '';
    const len = 1 + rnd(15);
    for (let j = 0; j < len; j++) name += letters[rnd(letters.length)];
    const [id, read] = walk(name);
    if (read !== name.length || id !== classify(name)) bad++;
  }
  t.equal(bad, 0);
  t.end();
});

t.test(
  'name automaton: the shifted form and its two-byte first step walk as the byte form',
  (t) => {
    const shifted = shiftedNameAutomaton();
    let states = 0;
    for (let k = 0; k < NAME_NEXT.length; k++) states = Math.max(states, NAME_NEXT[k] as number);
    let badNext = 0;
    for (let st = 0; st <= states; st++) {
      for (let c = 0; c < 256; c++) {
        const want = (NAME_NEXT[(st << 8) | c] as number) << 8;
        if (shifted.next[(st << 8) | c] !== want) badNext++;
      }
    }
    t.equal(badNext, 0, 'next[state << 8 | byte] is the byte form shifted by 8');
    let badPair = 0;
    for (let b0 = 0; b0 < 256; b0++) {
      for (let b1 = 0; b1 < 256; b1++) {
        const s1 = NAME_NEXT[(NAME_START << 8) | b0] as number;
        const s2 = s1 === 0 ? 0 : (NAME_NEXT[(s1 << 8) | b1] as number);
        if (shifted.pair[b0 | (b1 << 8)] !== s2) badPair++;
      }
    }
    t.equal(
      badPair,
      0,
      'pair[b0 | b1 << 8] is the state after b0 b1, 0 when either stops the walk',
    );
    t.same([...shifted.id], [...NAME_ID], 'same ids per state');
    t.end();
  },
);

function swapCase(s: string): string {
  let out = '';
  for (const ch of s) out += ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
  return out;
}
