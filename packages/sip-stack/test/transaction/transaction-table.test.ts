import t from 'tap';
import { TransactionTable } from '../../src/transaction/transaction-table.js';

const tx = (key: string, name: string) => ({ key, name });

t.test('transaction table: finds a transaction by key until it is removed', (t) => {
  const table = new TransactionTable<{ key: string; name: string }>();
  const a = tx('z9hG4bK1 host REGISTER', 'a');
  table.set(a.key, a);
  t.equal(table.get(a.key), a);
  t.ok(table.has(a.key));
  t.equal(table.size, 1);
  table.delete(a);
  t.equal(table.get(a.key), undefined);
  t.notOk(table.has(a.key));
  t.equal(table.size, 0);
  t.end();
});

t.test('transaction table: removing a transaction leaves another filed under its key', (t) => {
  const table = new TransactionTable<{ key: string; name: string }>();
  const a = tx('k', 'a');
  const b = tx('k', 'b');
  table.set('k', a);
  table.set('k', b);
  table.delete(a);
  t.equal(table.get('k'), b, 'a was replaced; removing it again does nothing');
  t.same(
    table.list().map((x) => x.name),
    ['b'],
  );
  table.clear();
  t.equal(table.size, 0);
  t.same(table.list(), []);
  t.end();
});
