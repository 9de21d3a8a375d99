import t from 'tap';
import { CompletedResponses } from '../../src/transaction/completed-responses.js';
import type { Target } from '../../src/transport/transport.js';

const target: Target = {
  protocol: 'udp',
  address: '192.0.2.7',
  port: 5062,
  flowId: 'udp:127.0.0.1:5060->192.0.2.7:5062',
};

const bytes = (s: string) => Buffer.from(s, 'latin1');

t.test('completed responses: a stored final is found by its key with its target', (t) => {
  const store = new CompletedResponses();
  t.ok(
    store.add('z9hG4bK1|192.0.2.7:5062|REGISTER', bytes('SIP/2.0 200 OK\r\n\r\n'), target, 100, 0),
  );
  const found = store.find('z9hG4bK1|192.0.2.7:5062|REGISTER', 50);
  t.equal(found?.bytes.toString('latin1'), 'SIP/2.0 200 OK\r\n\r\n');
  t.same(found?.target, target);
  t.equal(store.find('z9hG4bK2|192.0.2.7:5062|REGISTER', 50), undefined, 'another key');
  t.equal(store.find('z9hG4bK1|192.0.2.7:5062|REGISTE', 50), undefined, 'a prefix of the key');
  t.end();
});

t.test('completed responses: a target without a flow id comes back without one', (t) => {
  const store = new CompletedResponses();
  const plain: Target = { protocol: 'udp', address: '::1', port: 5070 };
  store.add('k', bytes('x'), plain, 10, 0);
  t.same(store.find('k', 1)?.target, plain);
  t.notOk('flowId' in (store.find('k', 1)?.target ?? {}));
  t.end();
});

t.test('completed responses: the bytes found are a copy the store never rewrites', (t) => {
  const store = new CompletedResponses();
  store.add('a', bytes('first'), target, 10, 0);
  const copy = store.find('a', 1)?.bytes;
  copy?.fill(0x21);
  t.equal(store.find('a', 1)?.bytes.toString('latin1'), 'first');
  t.end();
});

t.test('completed responses: nothing is found at or after its deadline', (t) => {
  const store = new CompletedResponses();
  store.add('a', bytes('x'), target, 100, 0);
  t.ok(store.find('a', 99.9));
  t.equal(store.find('a', 100), undefined);
  store.sweep(100);
  t.equal(store.size, 0, 'the sweep dropped it');
  t.end();
});

t.test('completed responses: adding a key again replaces its entry', (t) => {
  const store = new CompletedResponses();
  store.add('a', bytes('old'), target, 100, 0);
  store.add('a', bytes('new'), target, 200, 10);
  t.equal(store.size, 1);
  t.equal(store.find('a', 150)?.bytes.toString('latin1'), 'new');
  store.sweep(150);
  t.equal(store.find('a', 150)?.bytes.toString('latin1'), 'new', 'the sweep kept the new one');
  t.end();
});

t.test('completed responses: delete forgets one key only', (t) => {
  const store = new CompletedResponses();
  store.add('a', bytes('1'), target, 100, 0);
  store.add('b', bytes('2'), target, 100, 0);
  store.delete('a');
  store.delete('missing');
  t.equal(store.find('a', 1), undefined);
  t.equal(store.find('b', 1)?.bytes.toString('latin1'), '2');
  t.equal(store.size, 1);
  t.end();
});

t.test('completed responses: text outside latin1 is refused, nothing stored', (t) => {
  const store = new CompletedResponses();
  t.notOk(store.add('z9hG4bK\u20ac', bytes('x'), target, 10, 0));
  t.notOk(store.add('k', bytes('x'), { ...target, flowId: 'flow-\u0394' }, 10, 0));
  t.equal(store.size, 0);
  t.end();
});

t.test('completed responses: a response larger than a chunk is stored whole', (t) => {
  const store = new CompletedResponses();
  const big = Buffer.alloc(3 << 20, 0x61);
  t.ok(store.add('big', big, target, 10, 0));
  t.ok(store.add('small', bytes('s'), target, 10, 0));
  t.equal(store.find('big', 1)?.bytes.length, big.length);
  t.equal(store.find('small', 1)?.bytes.toString('latin1'), 's');
  t.end();
});

t.test(
  'completed responses: under churn it answers like a map of live entries and gives chunks back',
  (t) => {
    const store = new CompletedResponses();
    const model = new Map<string, { body: string; deadline: number }>();
    let seed = 7;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const lifetime = 20_000;
    let now = 0;
    let mismatches = 0;
    for (let i = 0; i < 60_000; i++) {
      now += rnd(3); // deadlines come in order, several per millisecond
      const key = `z9hG4bK${rnd(20_000)}|10.0.${rnd(4)}.1:5060|${rnd(2) === 0 ? 'REGISTER' : 'BYE'}`;
      const op = rnd(10);
      if (op < 6) {
        const body = `SIP/2.0 200 OK\r\nX: ${i}\r\n${'p'.repeat(rnd(600))}\r\n\r\n`;
        store.add(key, bytes(body), target, now + lifetime, now);
        model.set(key, { body, deadline: now + lifetime });
      } else if (op < 7) {
        store.delete(key);
        model.delete(key);
      } else {
        const want = model.get(key);
        const live = want !== undefined && want.deadline > now ? want.body : undefined;
        if (store.find(key, now)?.bytes.toString('latin1') !== live) mismatches++;
      }
    }
    t.equal(mismatches, 0, 'every lookup matched the model');
    const held = store.bytesHeld;
    store.sweep(now + lifetime);
    t.equal(store.size, 0, 'all expired');
    t.ok(store.bytesHeld <= 1 << 20, `one chunk at most is left (${held} → ${store.bytesHeld})`);
    t.end();
  },
);
