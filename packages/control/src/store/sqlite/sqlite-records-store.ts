import type { Database, Statement } from 'better-sqlite3';
import { fail, ok } from '../../errors/ctl-errors.js';
import type { Result } from '../../errors/ctl-errors.js';
import { newId } from '../../util/ids.js';
import type { WallClock } from '../../util/wall-clock.js';
import type { Page } from '../config-store.js';
import type {
  CallEventRow,
  CallQuery,
  CdrEnd,
  CdrRow,
  CdrStart,
  RateInfo,
  RecordsBatch,
  RecordsStore,
} from '../records-store.js';
import { CdrWorkerWriter, type CdrWriterStats } from './cdr-worker-writer.js';
import { prepareBatchWriter, type WireRecordsBatch } from './records-batch.js';

type R = Record<string, unknown>;

/**
 * How long an account found without any rate is believed to have none (ms). Configuration
 * written through this process forgets it at once (`forgetRates`); this bounds how long a rate
 * written by another process goes unseen.
 */
const NO_RATES_MS = 1000;

/** A rate prefix is at most 15 digits (the schema's check, E.164's length): 16 candidates with ''. */
const RATE_CANDIDATES = 16;

/**
 * The prefixes a rate may have to match `number` ('' matches every number; then 1 to 15 leading
 * characters while they are digits, since a rate prefix is digits only), padded with nulls, which
 * match no row.
 */
export function ratePrefixes(number: string): (string | null)[] {
  const out: (string | null)[] = [''];
  for (let k = 0; k < number.length && k < RATE_CANDIDATES - 1; k++) {
    const c = number.charCodeAt(k);
    if (c < 48 || c > 57) break;
    out.push(number.slice(0, k + 1));
  }
  while (out.length < RATE_CANDIDATES) out.push(null);
  return out;
}

export interface SqliteRecordsStoreOptions {
  /**
   * Where the call recorder's batches (`writeBatch`) are committed: 'worker' (default) in a
   * worker thread with its own connection to the same file (WAL), so the event loop never waits
   * for a commit, a checkpoint or an fsync; 'sync' on this thread. An in-memory (`:memory:`) or
   * read-only database always writes on this thread: a worker cannot share it.
   */
  batchWriter?: 'worker' | 'sync';
  /** Told of every failed batch and worker failure (the failed batch's promise rejects too). */
  onWriteError?: ((err: unknown) => void) | undefined;
}

/** CDRs, events, rates and the wallet ledger in SQLite. */
export class SqliteRecordsStore implements RecordsStore {
  #db: Database;
  #clock: WallClock;
  #q: Record<string, Statement<unknown[], R>>;
  #calls = new Map<string, Statement<unknown[], R>>();
  /**
   * Accounts without any rate, until when (wall ms) that is believed: most accounts price no
   * call, and each rateFor on them still cost a query (about 25 µs under load, through the WAL
   * the CDR worker keeps growing) on the event loop at every outbound call's end.
   */
  readonly #unrated = new Map<string, number>();

  #onWalletChange: (accountId: string) => void;
  /** The call recorder's batches on this thread (a worker-less store, or the worker's fallback). */
  readonly #writeHere: (batch: WireRecordsBatch) => void;
  readonly #worker: CdrWorkerWriter | undefined;

  constructor(
    db: Database,
    clock: WallClock,
    onWalletChange: (accountId: string) => void = () => undefined,
    options: SqliteRecordsStoreOptions = {},
  ) {
    this.#db = db;
    this.#clock = clock;
    this.#onWalletChange = onWalletChange;
    this.#writeHere = prepareBatchWriter(db);
    // A worker needs a file it can open too: an in-memory or read-only database writes here.
    const file = !db.memory && !db.readonly && db.name !== '' ? db.name : undefined;
    if ((options.batchWriter ?? 'worker') === 'worker' && file !== undefined) {
      this.#worker = new CdrWorkerWriter({
        file,
        fallback: this.#writeHere,
        onError: options.onWriteError,
      });
    }
    const p = (sql: string) => db.prepare<unknown[], R>(sql);
    this.#q = {
      open: p(`INSERT INTO call_cdr (id, account_id, call_id, direction, from_number, to_number, user_id, did_id, trunk_id, started_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      byCall: p(`SELECT * FROM call_cdr WHERE call_id = ? ORDER BY id DESC LIMIT 1`),
      close:
        p(`UPDATE call_cdr SET answered_at = ?, ended_at = ?, billsec = ?, disposition = ?, hangup_cause = ?,
                cost_micros = ?, rate_id = ? WHERE id = ?`),
      event: p(
        'INSERT INTO call_event (id, account_id, call_id, at, kind, detail) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      events: p(
        'SELECT id, call_id, at, kind, detail FROM call_event WHERE call_id = ? ORDER BY id',
      ),
      // Longest-prefix match through the (account_id, prefix) index: the number's own prefixes
      // are the candidates, so a rate deck of any size costs RATE_CANDIDATES index probes. Each
      // candidate is a prefix of the next, so the longest is also the greatest (BINARY collation):
      // ORDER BY prefix follows the index, where ORDER BY length(prefix) sorted in a temporary
      // b-tree (30 µs against 4 µs a lookup, even with no rate at all).
      rates: p(
        `SELECT * FROM rate WHERE account_id = ? AND prefix IN (${Array(RATE_CANDIDATES).fill('?').join(', ')}) ORDER BY prefix DESC LIMIT 1`,
      ),
      anyRate: p('SELECT 1 AS found FROM rate WHERE account_id = ? LIMIT 1'),
      txn: p(
        'INSERT INTO wallet_txn (id, account_id, amount_micros, reason, call_id, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      bump: p(
        'UPDATE wallet SET balance_micros = balance_micros + ?, updated_at = ? WHERE account_id = ?',
      ),
      balance: p('SELECT balance_micros FROM wallet WHERE account_id = ?'),
    };
  }

  #now(): number {
    return Math.floor(this.#clock.nowMs() / 1000);
  }

  openCdr(c: CdrStart): Promise<string> {
    const id = newId('call');
    this.#q['open']?.run(
      id,
      c.accountId,
      c.callId,
      c.direction,
      c.fromNumber,
      c.toNumber,
      c.userId ?? null,
      c.didId ?? null,
      c.trunkId ?? null,
      c.startedAt,
    );
    return Promise.resolve(id);
  }

  writeBatch(batch: RecordsBatch): Promise<void> {
    if (this.#worker !== undefined) return this.#worker.write(batch);
    this.#writeHere(batch);
    return Promise.resolve();
  }

  /**
   * Whether another connection committed, as the CDR worker's connection sees it (its own CDR
   * commits never count); undefined when there is no worker watching (see CdrWorkerWriter).
   */
  changedElsewhere(): boolean | undefined {
    return this.#worker?.changedElsewhere();
  }

  /** Counters of the CDR worker; undefined when batches are written on this thread. */
  writerStats(): CdrWriterStats | undefined {
    return this.#worker?.stats();
  }

  /**
   * Writes the batches posted to the CDR worker, closes its connection and waits for the thread
   * to end (graceful shutdown: no CDR lost). Without a worker, resolves at once.
   */
  close(): Promise<void> {
    return this.#worker?.close() ?? Promise.resolve();
  }

  cdrByCallId(callId: string): Promise<CdrRow | undefined> {
    return Promise.resolve(this.#q['byCall']?.get(callId) as CdrRow | undefined);
  }

  closeCdr(
    end: CdrEnd,
    cost: { costMicros: number; rateId: string | null },
  ): Promise<CdrRow | undefined> {
    const tx = this.#db.transaction((): CdrRow | undefined => {
      const row = this.#q['byCall']?.get(end.callId) as CdrRow | undefined;
      if (row === undefined || row.disposition !== 'in_progress') return row;
      const billsec = end.answeredAt === undefined ? 0 : Math.max(0, end.endedAt - end.answeredAt);
      this.#q['close']?.run(
        end.answeredAt ?? null,
        end.endedAt,
        billsec,
        end.disposition,
        end.hangupCause ?? null,
        cost.costMicros,
        cost.rateId,
        row.id,
      );
      if (cost.costMicros > 0) this.#adjust(row.account_id, -cost.costMicros, 'call', end.callId);
      return this.#q['byCall']?.get(end.callId) as CdrRow | undefined;
    });
    return Promise.resolve(tx());
  }

  addEvent(accountId: string, callId: string, kind: string, detail?: string): Promise<void> {
    this.#q['event']?.run(newId('cev'), accountId, callId, this.#now(), kind, detail ?? null);
    return Promise.resolve();
  }

  events(callId: string): Promise<CallEventRow[]> {
    return Promise.resolve((this.#q['events']?.all(callId) ?? []) as unknown as CallEventRow[]);
  }

  listCalls(q: CallQuery): Promise<Result<Page<CdrRow>>> {
    const limit = q.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return Promise.resolve(
        fail('CTL_ERR_VALIDATION', 'limit must be an integer from 1 to 1000', 'limit'),
      );
    }
    const where = ['account_id IN (SELECT value FROM json_each(?))'];
    const params: unknown[] = [JSON.stringify(q.accountIds)];
    const add = (clause: string, value: unknown) => {
      where.push(clause);
      params.push(value);
    };
    if (q.since !== undefined) add('started_at >= ?', q.since);
    if (q.until !== undefined) add('started_at < ?', q.until);
    if (q.cursor !== undefined) add('id < ?', q.cursor);
    const sql = `SELECT * FROM call_cdr WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`;
    let stmt = this.#calls.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare<unknown[], R>(sql);
      this.#calls.set(sql, stmt);
    }
    const rows = stmt.all(...params, limit + 1) as unknown as CdrRow[];
    const more = rows.length > limit;
    const items = rows.slice(0, limit);
    return Promise.resolve(ok({ items, next_cursor: more ? (items.at(-1)?.id ?? null) : null }));
  }

  /** Forgets which accounts have no rate (after a configuration write). */
  forgetRates(): void {
    this.#unrated.clear();
  }

  rateFor(accountId: string, number: string): Promise<RateInfo | undefined> {
    const now = this.#clock.nowMs();
    const until = this.#unrated.get(accountId);
    // (a clock set back by more than the window asks again)
    if (until !== undefined && now < until && until - now <= NO_RATES_MS)
      return Promise.resolve(undefined);
    const r = this.#q['rates']?.get(accountId, ...ratePrefixes(number));
    if (r === undefined) {
      if (this.#q['anyRate']?.get(accountId) === undefined)
        this.#unrated.set(accountId, now + NO_RATES_MS);
      else this.#unrated.delete(accountId);
      return Promise.resolve(undefined);
    }
    return Promise.resolve({
      id: String(r['id']),
      prefix: String(r['prefix']),
      pricePerMinMicros: Number(r['price_per_min_micros']),
      connectFeeMicros: Number(r['connect_fee_micros']),
      initialIncrementSec: Number(r['initial_increment_sec']),
      incrementSec: Number(r['increment_sec']),
    });
  }

  adjustWallet(
    accountId: string,
    amountMicros: number,
    reason: string,
    callId?: string,
  ): Promise<number> {
    return Promise.resolve(
      this.#db.transaction(() => this.#adjust(accountId, amountMicros, reason, callId))(),
    );
  }

  #adjust(accountId: string, amountMicros: number, reason: string, callId?: string): number {
    this.#q['txn']?.run(newId('wtx'), accountId, amountMicros, reason, callId ?? null, this.#now());
    this.#q['bump']?.run(amountMicros, this.#now(), accountId);
    this.#onWalletChange(accountId);
    return Number(this.#q['balance']?.get(accountId)?.['balance_micros'] ?? 0);
  }
}
