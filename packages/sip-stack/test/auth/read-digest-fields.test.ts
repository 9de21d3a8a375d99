import t from 'tap';
import {
  credentialsFromFields,
  parseDigestCredentials,
} from '../../src/auth/digest-credentials.js';
import { readDigestFields } from '../../src/auth/read-digest-fields.js';

const PLAIN =
  'Digest username="1001",realm="example.com",uri="sip:example.com",' +
  'nonce="AAAAAYzN-abcdefghijklmnopqrstuvwxyz0123456789_-ABCDEFGHIJ",' +
  'response="0123456789abcdef0123456789abcdef",algorithm=MD5,cnonce="c1",qop=auth,nc=00000001,' +
  'opaque="op"';

/** Both readers agree: the fast one either declines or yields what the general one yields. */
function agrees(value: string): boolean {
  const fields = readDigestFields(value);
  if (fields === undefined) return true;
  const fast = credentialsFromFields(fields);
  const general = parseDigestCredentials(value);
  return JSON.stringify(fast) === JSON.stringify(general);
}

t.test(
  'digest fields: a plain Digest value is read on the fast path like the general parser',
  (t) => {
    const f = readDigestFields(PLAIN);
    t.ok(f, 'read on the fast path');
    t.equal(f?.username, '1001');
    t.equal(f?.nc, '00000001');
    t.ok(agrees(PLAIN));
    const spaced = PLAIN.replaceAll(',', ', ').replace('Digest', '  digest ');
    t.ok(readDigestFields(spaced), 'spaces after commas and a lower-case scheme');
    t.ok(agrees(spaced));
    t.end();
  },
);

t.test('digest fields: unusual values are left to the general parser', (t) => {
  const declined = [
    'Basic dXNlcjpwYXNz',
    'Digest',
    'Digest ',
    PLAIN.replace('username=', 'Username='),
    PLAIN.replace('username="1001"', "username*=UTF-8''%31001"),
    PLAIN.replace('"c1"', '"c\\"1"'),
    PLAIN.replace(',qop=auth', ',qop=auth,qop=auth'),
    PLAIN.replace(',qop=auth', ',foo=bar,qop=auth'),
    PLAIN.replace(',qop=auth', ',\r\n qop=auth'),
    PLAIN.replace('realm="example.com"', 'realm="example.com'),
    PLAIN.replace('nc=00000001', 'nc='),
    `${PLAIN}"`,
  ];
  for (const v of declined) t.equal(readDigestFields(v), undefined, JSON.stringify(v));
  t.end();
});

t.test(
  'digest fields: on mutated values the fast path never disagrees with the general one',
  (t) => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = ' \t,="\\=aAzZ09-*\r\n\u00e9';
    let fast = 0;
    for (let i = 0; i < 5000; i++) {
      let v = PLAIN;
      for (let k = 1 + random(3); k > 0; k--) {
        const at = random(v.length + 1);
        const c = alphabet[random(alphabet.length)] ?? '';
        v = random(2) === 0 ? v.slice(0, at) + c + v.slice(at) : v.slice(0, at) + v.slice(at + 1);
      }
      if (readDigestFields(v) !== undefined) fast++;
      if (!agrees(v)) t.fail(`disagree on ${JSON.stringify(v)}`);
    }
    t.ok(fast > 1000, `many mutations still take the fast path (${fast})`);
    t.end();
  },
);
