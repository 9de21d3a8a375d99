import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMasterKey } from '../../src/store/master-key.js';
import { openDatabase } from '../../src/store/sqlite/open-database.js';
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-config-store.js';
import { ratePrefixes } from '../../src/store/sqlite/sqlite-records-store.js';
import { ManualWallClock } from '../../src/util/wall-clock.js';
import { create } from '../support/test-store.js';

/** The lookup as a scan (every rate of the account tried as a GLOB pattern): the reference. */
const SCAN = `SELECT id FROM rate WHERE account_id = ? AND ? GLOB prefix || '*' ORDER BY length(prefix) DESC LIMIT 1`;

/** A deterministic generator (the test must not depend on Math.random). */
function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

function digits(next: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String(Math.floor(next() * 10));
  return s;
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'sb-rates-'));
  const key = loadMasterKey(dir, {});
  if (!key.ok) throw key.error;
  const db = openDatabase({ dataDir: dir });
  const clock = new ManualWallClock();
  const store = new SqliteConfigStore({ db, masterKey: key.value, clock });
  const account = (name: string) => create(store, 'account', { name, max_in: 5, max_out: 5 });
  return { dir, db, store, account, clock };
}

t.test(
  'ratePrefixes lists the empty prefix, then leading digits up to 15, padded with nulls',
  (t) => {
    const p = ratePrefixes('4420712345678901234');
    t.equal(p.length, 16);
    t.same(p.slice(0, 4), ['', '4', '44', '442']);
    t.equal(p[15], '442071234567890');
    t.same(ratePrefixes('+4420'), ['', ...Array<null>(15).fill(null)], 'no digit prefix of +4420');
    t.same(ratePrefixes('12a4').slice(0, 4), ['', '1', '12', null], 'stops at the first non-digit');
    t.same(ratePrefixes(''), ['', ...Array<null>(15).fill(null)]);
    t.end();
  },
);

t.test(
  'rateFor picks the longest matching prefix of a large deck, as a full scan would',
  async (t) => {
    const { dir, db, store, account } = setup();
    t.teardown(async () => {
      await store.closeAsync();
      rmSync(dir, { recursive: true, force: true });
    });
    const acme = await account('Acme');
    const other = await account('Other');
    const next = lcg(7);
    const prefixes = new Set(['', '4', '44', '4420', '442071', '1', '1415', '999999999999999']);
    while (prefixes.size < 400) prefixes.add(digits(next, 1 + Math.floor(next() * 15)));
    for (const prefix of prefixes) {
      await create(store, 'rate', { account_id: acme, prefix, price_per_min_micros: 1000 });
    }
    // the other account's deck: longer prefixes that must never win for Acme
    for (const prefix of ['44207', '4420712', '14155']) {
      await create(store, 'rate', { account_id: other, prefix, price_per_min_micros: 9 });
    }
    const scan = db.prepare<[string, string], { id: string }>(SCAN);
    const id = async (n: string) => (await store.records.rateFor(acme, n))?.id;
    t.equal((await store.records.rateFor(acme, '442071234567'))?.prefix, '442071');
    t.equal((await store.records.rateFor(acme, '14155550123'))?.prefix, '1415');
    t.equal((await store.records.rateFor(acme, '+442071234567'))?.prefix, '', 'only the catch-all');
    t.equal((await store.records.rateFor(acme, '9999999999999999'))?.prefix, '999999999999999');
    t.equal((await store.records.rateFor(other, '4420712999'))?.prefix, '4420712');
    t.equal(await store.records.rateFor(other, '33123'), undefined, 'no rate, no catch-all');
    const numbers = ['', '+', '0', 'abc', '44 20', '4420*', '[4]420'];
    for (let i = 0; i < 600; i++) {
      const n = digits(next, Math.floor(next() * 20));
      numbers.push(i % 5 === 0 ? `+${n}` : n);
    }
    for (const p of prefixes) if (p !== '') numbers.push(p, `${p}7`, p.slice(0, -1));
    let same = 0;
    for (const n of numbers) {
      const expected = scan.get(acme, n)?.id;
      if ((await id(n)) === expected) same++;
      else t.fail(`${JSON.stringify(n)}: ${String(await id(n))} instead of ${String(expected)}`);
    }
    t.equal(same, numbers.length, 'every number gets the rate the full scan gives');
  },
);

t.test(
  'an account found without rates is believed so for a second; a rate written through the store counts at once',
  async (t) => {
    const { dir, db, store, account, clock } = setup();
    t.teardown(async () => {
      await store.closeAsync();
      rmSync(dir, { recursive: true, force: true });
    });
    const quiet = await account('Quiet');
    const busy = await account('Busy');
    t.equal(await store.records.rateFor(quiet, '4420712345'), undefined, 'no rate at all');
    // Another process writes a rate (no configuration write through this store).
    const now = Math.floor(clock.nowMs() / 1000);
    const elsewhere = `rate_${'E'.repeat(26)}`;
    db.prepare(
      `INSERT INTO rate (id, account_id, prefix, price_per_min_micros, created_at, updated_at)
       VALUES (?, ?, '44', 500, ?, ?)`,
    ).run(elsewhere, quiet, now, now);
    t.equal(await store.records.rateFor(quiet, '4420712345'), undefined, 'not asked again yet');
    clock.advance(1000);
    t.equal(
      (await store.records.rateFor(quiet, '4420712345'))?.id,
      elsewhere,
      'asked again after a second',
    );

    t.equal(await store.records.rateFor(busy, '14155550123'), undefined);
    await create(store, 'rate', { account_id: busy, prefix: '1', price_per_min_micros: 7 });
    t.equal(
      (await store.records.rateFor(busy, '14155550123'))?.prefix,
      '1',
      'a rate written through the store is used at once',
    );
    clock.set(clock.nowMs() - 60_000);
    t.equal(
      (await store.records.rateFor(busy, '14155550123'))?.prefix,
      '1',
      'a clock set back never hides a rate',
    );
  },
);
