import t from 'tap';
import { DigestNonce } from '../../src/auth/digest-nonce.js';
import { NonceCountWindow } from '../../src/auth/nonce-count-window.js';

function codec(now: { t: number }, secrets: string[] = ['k1']): DigestNonce {
  return new DigestNonce({ secrets, now: () => now.t });
}

t.test('nonce: a minted nonce validates statelessly and carries its issue time', (t) => {
  const now = { t: 1_700_000_000_000 };
  const nonce = codec(now).create('example.com');
  t.match(nonce, /^[A-Za-z0-9_-]{64}$/);
  now.t += 1000;
  const fresh = codec(now); // another instance with the same secret: no shared state
  t.same(fresh.check(nonce, 'example.com'), { valid: true, issuedAt: 1_700_000_000_000 });
  t.end();
});

t.test(
  'nonce: tampering, another realm, another secret, junk and future timestamps are invalid',
  (t) => {
    const now = { t: 1_700_000_000_000 };
    const c = codec(now);
    const nonce = c.create('example.com');
    const bytes = Buffer.from(nonce, 'base64url');
    bytes[3] = (bytes[3] ?? 0) ^ 1; // move the timestamp
    t.notOk(c.check(bytes.toString('base64url'), 'example.com').valid, 'tampered timestamp');
    t.notOk(c.check(nonce, 'other.com').valid, 'realm binding');
    t.notOk(codec(now, ['k2']).check(nonce, 'example.com').valid, 'other secret');
    for (const junk of ['', 'abc', '!'.repeat(64), `${nonce}A`, nonce.slice(0, -1)])
      t.notOk(c.check(junk, 'example.com').valid, junk);
    const future = codec({ t: now.t + 60_000 }).create('example.com');
    t.notOk(c.check(future, 'example.com').valid, 'minted a minute in the future');
    t.end();
  },
);

t.test('nonce: previous secrets still validate after rotation, new nonces use the first', (t) => {
  const now = { t: 5 };
  const old = codec(now, ['old']).create('r');
  const rotated = codec(now, ['new', 'old']);
  t.ok(rotated.check(old, 'r').valid);
  t.notOk(codec(now, ['old']).check(rotated.create('r'), 'r').valid);
  t.ok(rotated.checkOpaque(codec(now, ['old']).opaque('r'), 'r'));
  t.notOk(rotated.checkOpaque(rotated.opaque('r'), 'r2'));
  t.end();
});

t.test('nc window: increasing counts pass, repeats are replays', (t) => {
  const w = new NonceCountWindow();
  t.equal(w.accept('n', 1, 1), 'ok');
  t.equal(w.accept('n', 1, 2), 'ok');
  t.equal(w.accept('n', 1, 2), 'replay');
  t.equal(w.accept('n', 1, 1), 'replay');
  t.equal(w.accept('other', 1, 1), 'ok', 'counts are per nonce');
  t.end();
});

t.test(
  'nc window: out-of-order counts inside the window pass once; older than the window are replays',
  (t) => {
    const w = new NonceCountWindow({ window: 8 });
    t.equal(w.accept('n', 1, 1), 'ok');
    t.equal(w.accept('n', 1, 5), 'ok');
    t.equal(w.accept('n', 1, 3), 'ok', 'late but unseen');
    t.equal(w.accept('n', 1, 3), 'replay');
    t.equal(w.accept('n', 1, 100), 'ok');
    t.equal(w.accept('n', 1, 92), 'replay', '8 below the highest is outside the window');
    t.equal(w.accept('n', 1, 93), 'ok');
    t.equal(w.accept('n', 1, 200), 'ok', 'a jump beyond 64 resets the bitmap');
    t.equal(w.accept('n', 1, 199), 'ok');
    t.equal(w.accept('n', 1, 200), 'replay');
    t.end();
  },
);

t.test('nc window: memory is bounded and forgotten nonces are never trusted again', (t) => {
  const w = new NonceCountWindow({ maxNonces: 100 });
  let accepted = 0;
  for (let i = 0; i < 10_000; i++) if (w.accept(`n${i}`, i, 1) === 'ok') accepted++;
  t.equal(accepted, 10_000);
  t.equal(w.size, 100);
  t.equal(w.accept('n5', 5, 1), 'forgotten', 'an evicted nonce cannot replay nc=1');
  t.equal(
    w.accept('n0-unused', 3, 1),
    'forgotten',
    'an older nonce with no entry may have been evicted',
  );
  t.equal(w.accept('fresh', 20_000, 1), 'ok', 'a nonce newer than every eviction is new');
  t.equal(w.accept('n9999', 9999, 1), 'replay', 'recent entries are still tracked');
  t.end();
});

t.test('nc window: a nonce in use stays tracked while newer ones come and go (LRU)', (t) => {
  const w = new NonceCountWindow({ maxNonces: 3 });
  t.equal(w.accept('a', 1, 1), 'ok');
  t.equal(w.accept('b', 2, 1), 'ok');
  t.equal(w.accept('c', 3, 1), 'ok');
  t.equal(w.accept('a', 1, 2), 'ok', 'a is used again');
  t.equal(w.accept('d', 4, 1), 'ok', 'd takes the place of the least recently used, b');
  t.equal(w.size, 3);
  t.equal(w.accept('a', 1, 2), 'replay', 'a is still tracked');
  t.equal(w.accept('b', 2, 1), 'forgotten', 'b was evicted and is never trusted again');
  for (let i = 0; i < 1000; i++) w.accept(`n${i}`, 10 + i, 1);
  t.equal(w.size, 3, 'bounded under churn');
  t.equal(w.accept('n999', 1009, 1), 'replay');
  t.end();
});

t.test('nonce: a nonce minted long ago (no longer remembered) is still checked by its MAC', (t) => {
  const now = { t: 1_700_000_000_000 };
  const c = codec(now);
  const first = c.create('example.com');
  for (let i = 0; i < 10_000; i++) c.create('example.com');
  t.same(c.check(first, 'example.com'), { valid: true, issuedAt: 1_700_000_000_000 });
  t.notOk(c.check(first, 'other.com').valid, 'still bound to its realm');
  t.end();
});

t.test('nonce: the id of our own nonce is its counter, of another instance its body', (t) => {
  const now = { t: 1_700_000_000_000 };
  const c = codec(now);
  const a = c.create('r');
  const b = c.create('r');
  t.equal(typeof c.id(a), 'number');
  t.equal(c.id(b), (c.id(a) as number) + 1, 'one counter per nonce minted');
  const foreign = codec(now).create('r');
  t.equal(c.id(foreign), foreign.slice(0, 24), 'timestamp, salt and counter of the other node');
  t.end();
});

t.test('nc window: the bitmap spans 64 counts across its two 32-bit words', (t) => {
  const w = new NonceCountWindow({ window: 64 });
  t.equal(w.accept(7, 1, 1), 'ok', 'numeric nonce ids are keys too');
  t.equal(w.accept(7, 1, 40), 'ok');
  t.equal(w.accept(7, 1, 5), 'ok', '35 below the highest: the high word');
  t.equal(w.accept(7, 1, 5), 'replay');
  t.equal(w.accept(7, 1, 1), 'replay', '39 below the highest, seen before the jump');
  t.equal(w.accept(7, 1, 70), 'ok');
  t.equal(w.accept(7, 1, 40), 'replay', 'moved up by 30 and still remembered');
  t.equal(w.accept(7, 1, 6), 'replay', '64 below the highest is outside the window');
  t.equal(w.accept(7, 1, 7), 'ok', '63 below: the top bit of the high word');
  t.equal(w.accept(7, 1, 7), 'replay');
  t.equal(w.accept('7', 1, 1), 'ok', 'a string key is another nonce');
  t.end();
});
