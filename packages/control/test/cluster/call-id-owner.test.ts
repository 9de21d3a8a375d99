import t from 'tap';
import {
  callIdOwner,
  clusterCallId,
  ownerOfCallId,
  peekCallId,
} from '../../src/cluster/call-id-owner.js';
import { relaySlice } from '../../src/cluster/relay-slice.js';

const msg = (callIdLine: string, extra = ''): Buffer =>
  Buffer.from(
    `INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-Info: <x>\r\n${extra}${callIdLine}\r\nCSeq: 1 INVITE\r\n\r\nCall-ID: body-not-header`,
    'latin1',
  );

t.test('peekCallId finds the full and the compact form, any case, and ignores the body', (t) => {
  for (const line of [
    'Call-ID: abc@h',
    'call-id:abc@h',
    'CALL-ID  :  abc@h  ',
    'i: abc@h',
    'I:abc@h',
  ]) {
    const b = msg(line);
    const r = peekCallId(b);
    t.ok(r, line);
    if (r !== undefined) t.equal(b.toString('latin1', r[0], r[1]), 'abc@h', line);
  }
  t.equal(peekCallId(Buffer.from('SIP/2.0 200 OK\r\nVia: x\r\n\r\nCall-ID: y')), undefined);
  t.equal(peekCallId(Buffer.alloc(0)), undefined);
  t.equal(peekCallId(msg('In-Reply-To: abc')), undefined, 'a header starting with i is not i:');
  t.end();
});

t.test('a request and its response get the same owner', (t) => {
  const res = Buffer.from('SIP/2.0 180 Ringing\r\ni: zz-42@host\r\nCSeq: 1 INVITE\r\n\r\n');
  for (const n of [2, 3, 4])
    t.equal(callIdOwner(msg('Call-ID: zz-42@host'), n), callIdOwner(res, n));
  t.end();
});

t.test('Call-IDs made for a worker are owned by that worker; others spread by hash', (t) => {
  for (let w = 0; w < 4; w++) t.equal(ownerOfCallId(clusterCallId(w), 4), w);
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) seen.add(ownerOfCallId(`call-${i}@example.test`, 4));
  t.same([...seen].sort(), [0, 1, 2, 3]);
  t.equal(callIdOwner(Buffer.from('garbage with no headers'), 2), undefined);
  t.end();
});

t.test('relay slices are disjoint, even-aligned and cover the range', (t) => {
  const a = relaySlice({ min: 30000, max: 39999 }, 0, 2);
  const b = relaySlice({ min: 30000, max: 39999 }, 1, 2);
  t.same(a, { min: 30000, max: 34999 });
  t.same(b, { min: 35000, max: 39999 });
  t.equal(relaySlice({ min: 30001, max: 30010 }, 1, 2).min % 2, 0);
  t.throws(() => relaySlice({ min: 30000, max: 30001 }, 0, 2));
  t.end();
});
