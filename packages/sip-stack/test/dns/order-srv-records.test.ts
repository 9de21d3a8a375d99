import t from 'tap';
import type { DnsSrvRecord } from '../../src/dns/dns-resolver.js';
import { orderNaptrRecords, orderSrvRecords } from '../../src/dns/order-srv-records.js';
import { seededRandom } from './support/fake-dns-resolver.js';

const srv = (name: string, priority: number, weight: number): DnsSrvRecord => ({
  name,
  port: 5060,
  priority,
  weight,
});

t.test('SRV: lower priority always comes first, whatever the weights (RFC 2782)', (t) => {
  const records = [srv('c', 20, 100), srv('a', 10, 0), srv('d', 30, 1), srv('b', 10, 0)];
  for (const r of [() => 0, () => 0.999999, seededRandom(7)]) {
    const order = orderSrvRecords(records, r).map((x) => x.name);
    t.same(order.slice(2), ['c', 'd']);
    t.same([...order.slice(0, 2)].sort(), ['a', 'b']);
  }
  t.end();
});

t.test('SRV: within a priority, selection follows running weight sums', (t) => {
  const records = [srv('w10', 1, 10), srv('w0', 1, 0), srv('w30', 1, 30)];
  // pool order is [w0, w10, w30]; sums 0, 10, 40; pick = floor(r * 41)
  t.same(
    orderSrvRecords(records, () => 0).map((x) => x.name),
    ['w0', 'w10', 'w30'],
    'pick 0 selects the zero-weight record',
  );
  t.same(
    orderSrvRecords(records, () => 0.2).map((x) => x.name)[0],
    'w10',
    'pick 8 falls in (0, 10]',
  );
  t.same(
    orderSrvRecords(records, () => 0.99).map((x) => x.name)[0],
    'w30',
    'pick 40 falls in (10, 40]',
  );
  t.end();
});

t.test('SRV: first choices are distributed in proportion to weight (seeded)', (t) => {
  const records = [srv('a', 1, 60), srv('b', 1, 30), srv('c', 1, 10)];
  const random = seededRandom(42);
  const first: Record<string, number> = { a: 0, b: 0, c: 0 };
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    const name = orderSrvRecords(records, random)[0]?.name ?? '';
    first[name] = (first[name] ?? 0) + 1;
  }
  t.ok(Math.abs((first.a ?? 0) / n - 0.6) < 0.02, `a ≈ 60% (${first.a})`);
  t.ok(Math.abs((first.b ?? 0) / n - 0.3) < 0.02, `b ≈ 30% (${first.b})`);
  t.ok(Math.abs((first.c ?? 0) / n - 0.1) < 0.02, `c ≈ 10% (${first.c})`);
  t.end();
});

t.test('SRV: every record appears exactly once', (t) => {
  const records = Array.from({ length: 20 }, (_, i) => srv(`h${i}`, i % 3, i));
  const order = orderSrvRecords(records, seededRandom(1));
  t.equal(order.length, 20);
  t.equal(new Set(order.map((r) => r.name)).size, 20);
  t.end();
});

t.test('NAPTR: ascending order, then ascending preference', (t) => {
  const n = (replacement: string, order: number, preference: number) => ({
    flags: 's',
    service: 'SIP+D2U',
    regexp: '',
    replacement,
    order,
    preference,
  });
  const sorted = orderNaptrRecords([n('c', 20, 1), n('b', 10, 50), n('a', 10, 10), n('d', 30, 0)]);
  t.same(
    sorted.map((r) => r.replacement),
    ['a', 'b', 'c', 'd'],
  );
  t.end();
});
