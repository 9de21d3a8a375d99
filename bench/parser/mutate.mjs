// Deterministic mutator for parser fuzzing, shared by the test suite's bounded fuzz
// (packages/sip-stack/test/message/fuzz.test.ts) and bench/parser/fuzz.mjs.
// Same seed, same corpus => same sequence of inputs.

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export function createRng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (rng, n) => Math.floor(rng() * n);
const pick = (rng, arr) => arr[int(rng, arr.length)];

const HEADER_NAMES = [
  'Via',
  'v',
  'VIA',
  'Content-Length',
  'l',
  'CSeq',
  'Call-ID',
  'i',
  'To',
  't',
  'From',
  'f',
  'Max-Forwards',
  'Contact',
  'm',
  'Route',
  'Record-Route',
  'Content-Type',
  'c',
  'X-Fuzz',
  '',
  ' ',
  'Via ',
];
const VALUE_PARTS = [
  'SIP/2.0/UDP',
  ' ',
  '  ',
  '\t',
  ';',
  ',',
  ':',
  '"',
  '\\',
  '<',
  '>',
  '[',
  ']',
  '%',
  '%0',
  '%00',
  '?',
  '=',
  '@',
  'sip:',
  'sips:',
  'tel:',
  '[::1]',
  '[2001:db8::1]:5060',
  'branch=z9hG4bK',
  'tag=',
  'rport',
  'received=',
  '0',
  '70',
  '-1',
  '4294967296',
  '99999999999999999999',
  '1e3',
  '0x10',
  'INVITE',
  'BYE',
  '\r\n',
  '\r\n ',
  '\n',
  '\r',
  '\0',
  '\xff',
  '\xc3\xa9',
  'a'.repeat(300),
];

function bitFlip(rng, b) {
  if (b.length === 0) return b;
  const out = Buffer.from(b);
  for (let k = 1 + int(rng, 8); k > 0; k--) out[int(rng, out.length)] ^= 1 << int(rng, 8);
  return out;
}

function truncate(rng, b) {
  return b.subarray(0, int(rng, b.length + 1));
}

function duplicate(rng, b) {
  if (b.length === 0) return b;
  const s = int(rng, b.length);
  const e = Math.min(b.length, s + 1 + int(rng, 200));
  const at = int(rng, b.length + 1);
  const times = 1 + int(rng, 4);
  const copies = Buffer.concat(Array.from({ length: times }, () => b.subarray(s, e)));
  return Buffer.concat([b.subarray(0, at), copies, b.subarray(at)]);
}

function splice(rng, b, corpus) {
  const other = pick(rng, corpus);
  return Buffer.concat([
    b.subarray(0, int(rng, b.length + 1)),
    other.subarray(int(rng, other.length + 1)),
  ]);
}

/** Inserts a header line made of awkward parts right after a random CRLF of the input. */
function insertHeader(rng, b) {
  let value = '';
  for (let k = 1 + int(rng, 5); k > 0; k--) value += pick(rng, VALUE_PARTS);
  const line = Buffer.from(
    `${pick(rng, HEADER_NAMES)}${pick(rng, [':', ' :', ': ', ''])}${value}\r\n`,
    'latin1',
  );
  const ends = [];
  for (let i = b.indexOf('\r\n'); i >= 0 && ends.length < 64; i = b.indexOf('\r\n', i + 2))
    ends.push(i + 2);
  const at = ends.length === 0 ? 0 : pick(rng, ends);
  return Buffer.concat([b.subarray(0, at), line, b.subarray(at)]);
}

function overwriteSpecial(rng, b) {
  if (b.length === 0) return b;
  const out = Buffer.from(b);
  const bytes = [
    0x0d, 0x0a, 0x3a, 0x3b, 0x2c, 0x22, 0x3c, 0x3e, 0x20, 0x00, 0xff, 0x5b, 0x5d, 0x25,
  ];
  for (let k = 1 + int(rng, 4); k > 0; k--) out[int(rng, out.length)] = pick(rng, bytes);
  return out;
}

function deleteRange(rng, b) {
  if (b.length === 0) return b;
  const s = int(rng, b.length);
  return Buffer.concat([b.subarray(0, s), b.subarray(Math.min(b.length, s + 1 + int(rng, 40)))]);
}

const OPS = [
  bitFlip,
  truncate,
  duplicate,
  splice,
  insertHeader,
  insertHeader,
  overwriteSpecial,
  deleteRange,
];

/** One mutated input: a corpus entry with 1 to 3 random mutations applied. */
export function mutate(rng, corpus) {
  let b = pick(rng, corpus);
  for (let k = 1 + int(rng, 3); k > 0; k--) b = pick(rng, OPS)(rng, b, corpus);
  return b;
}
