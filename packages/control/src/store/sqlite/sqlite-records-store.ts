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

type R = Record<string, unknown>;

/** CDRs, events, rates and the wallet ledger in SQLite. */
export class SqliteRecordsStore implements RecordsStore {
  #db: Database;
  #clock: WallClock;
  #q: Record<string, Statement<unknown[], R>>;
  #calls = new Map<string, Statement<unknown[], R>>();

  #onWalletChange: (accountId: string) => void;

  constructor(
    db: Database,
    clock: WallClock,
    onWalletChange: (accountId: string) => void = () => undefined,
  ) {
    this.#db = db;
    this.#clock = clock;
    this.#onWalletChange = onWalletChange;
    const p = (sql: string) => db.prepare<unknown[], R>(sql);
    this.#q = {
      open: p(`INSERT INTO call_cdr (id, account_id, call_id, direction, from_number, to_number, user_id, did_id, trunk_id, started_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      insert:
        p(`INSERT INTO call_cdr (id, account_id, call_id, direction, from_number, to_number, user_id, did_id, trunk_id,
                 started_at, answered_at, ended_at, billsec, disposition, hangup_cause, cost_micros, rate_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
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
      rates: p(
        `SELECT * FROM rate WHERE account_id = ? AND ? GLOB prefix || '*' ORDER BY length(prefix) DESC LIMIT 1`,
      ),
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
    const insert = this.#q['insert'];
    const update = this.#q['close'];
    const event = this.#q['event'];
    this.#db.transaction(() => {
      for (const c of batch.inserts) {
        insert?.run(
          c.id,
          c.account_id,
          c.call_id,
          c.direction,
          c.from_number,
          c.to_number,
          c.user_id,
          c.did_id,
          c.trunk_id,
          c.started_at,
          c.answered_at,
          c.ended_at,
          c.billsec,
          c.disposition,
          c.hangup_cause,
          c.cost_micros,
          c.rate_id,
        );
      }
      for (const c of batch.updates) {
        update?.run(
          c.answered_at,
          c.ended_at,
          c.billsec,
          c.disposition,
          c.hangup_cause,
          c.cost_micros,
          c.rate_id,
          c.id,
        );
      }
      for (const e of batch.events)
        event?.run(newId('cev'), e.accountId, e.callId, e.at, e.kind, e.detail ?? null);
    })();
    return Promise.resolve();
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

  rateFor(accountId: string, number: string): Promise<RateInfo | undefined> {
    const r = this.#q['rates']?.get(accountId, number);
    if (r === undefined) return Promise.resolve(undefined);
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
