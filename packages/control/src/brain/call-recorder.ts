import type { CallEventInput, CdrRow, CdrStart, RecordsStore } from '../store/records-store.js';
import { newId } from '../util/ids.js';
import type { WallClock } from '../util/wall-clock.js';
import type { CallEnd } from './brain.js';
import { priceCall } from './rate-engine.js';

export type CallWebhookEvent = 'call.started' | 'call.ended';

/** Receives call lifecycle events (webhook dispatch); must not throw. */
export type CallEventListener = (
  event: CallWebhookEvent,
  accountId: string,
  payload: Record<string, unknown>,
) => void;

export interface CallRecorderOptions {
  /**
   * At most one write per this interval (default 25 ms): rows queued when the last write is
   * older are written on the next tick; otherwise they wait for the interval to pass, and all
   * rows queued meanwhile go in the same transaction. A crash loses at most one interval of rows.
   */
  flushIntervalMs?: number;
  /** A batch this large is written at once (default 512 rows). */
  maxBatch?: number;
  /** Calls whose CDR is remembered in memory until they end (default 100,000; oldest dropped). */
  maxOpen?: number;
}

interface OpenCdr {
  row: CdrRow;
  /** The row was handed to the store (its completion becomes an update). */
  written: boolean;
}

interface BatchWaiter {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function waiter(): BatchWaiter {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * CDR rows at route time, completed, priced and debited at release, and a call_event trace per
 * call. Rows are written behind: queued in memory and written in one transaction per batch (at
 * most one batch per `flushIntervalMs`, or at `maxBatch` rows), so neither routing nor the end of
 * a call waits for its own commit. A call that ends before its row was written is inserted complete; `ended`
 * resolves once its batch is durable. Priced calls (wallet debit) are closed at once, in their
 * own transaction, so the balance admission reads stays exact.
 */
export class CallRecorder {
  #records: RecordsStore;
  #clock: WallClock;
  #listener: CallEventListener | undefined;
  #onError: (err: unknown) => void;
  #intervalMs: number;
  #maxBatch: number;
  #maxOpen: number;
  #open = new Map<string, OpenCdr>();
  #inserts: OpenCdr[] = [];
  #updates: CdrRow[] = [];
  #events: CallEventInput[] = [];
  #timer: NodeJS.Timeout | undefined;
  #waiter: BatchWaiter | undefined;
  #writing: Promise<void> = Promise.resolve();
  #lastWriteAt = Number.NEGATIVE_INFINITY;

  constructor(
    records: RecordsStore,
    clock: WallClock,
    listener?: CallEventListener,
    onError: (err: unknown) => void = () => undefined,
    options: CallRecorderOptions = {},
  ) {
    this.#records = records;
    this.#clock = clock;
    this.#listener = listener;
    this.#onError = onError;
    this.#intervalMs = options.flushIntervalMs ?? 25;
    this.#maxBatch = options.maxBatch ?? 512;
    this.#maxOpen = options.maxOpen ?? 100_000;
  }

  #now(): number {
    return Math.floor(this.#clock.nowMs() / 1000);
  }

  get #queued(): number {
    return this.#inserts.length + this.#updates.length + this.#events.length;
  }

  started(start: Omit<CdrStart, 'startedAt'>): void {
    const row: CdrRow = {
      id: newId('call'),
      account_id: start.accountId,
      call_id: start.callId,
      direction: start.direction,
      from_number: start.fromNumber,
      to_number: start.toNumber,
      user_id: start.userId ?? null,
      did_id: start.didId ?? null,
      trunk_id: start.trunkId ?? null,
      started_at: this.#now(),
      answered_at: null,
      ended_at: null,
      billsec: 0,
      disposition: 'in_progress',
      hangup_cause: null,
      cost_micros: 0,
      rate_id: null,
    };
    const open: OpenCdr = { row, written: false };
    if (this.#open.size >= this.#maxOpen && !this.#open.has(start.callId)) {
      // Bounded memory: the oldest call's row is (or will be) in the store; its end reads it there.
      const oldest = this.#open.keys().next().value;
      if (oldest !== undefined) this.#open.delete(oldest);
    }
    this.#open.set(start.callId, open);
    this.#inserts.push(open);
    this.#schedule();
    this.#listener?.('call.started', start.accountId, {
      call_id: start.callId,
      direction: start.direction,
      from: start.fromNumber,
      to: start.toNumber,
      started_at: row.started_at,
    });
  }

  /** Queue a call_event trace entry (written with the next batch). */
  event(accountId: string, callId: string, kind: string, detail?: string): void {
    this.#events.push({ accountId, callId, at: this.#now(), kind, detail });
    this.#schedule();
  }

  #schedule(): void {
    if (this.#queued >= this.#maxBatch) {
      this.flush().catch(this.#onError);
      return;
    }
    if (this.#timer !== undefined) return;
    // Leading edge: a quiet recorder writes at once; a busy one once per interval.
    const delay = Math.max(0, this.#lastWriteAt + this.#intervalMs - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch(this.#onError);
    }, delay);
    this.#timer.unref();
  }

  /** Resolves when the batch now being queued is written. */
  #durable(): Promise<void> {
    this.#waiter ??= waiter();
    const { promise } = this.#waiter;
    this.#schedule();
    // Someone waits for this batch: the timer keeps the process alive until it is written.
    this.#timer?.ref();
    return promise;
  }

  /** Write queued CDRs and events now, in one transaction (after any write in flight). */
  flush(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queued === 0) return this.#writing;
    this.#lastWriteAt = performance.now();
    const inserts = this.#inserts.map((o) => {
      o.written = true;
      return o.row;
    });
    const batch = { inserts, updates: this.#updates, events: this.#events };
    const done = this.#waiter;
    this.#inserts = [];
    this.#updates = [];
    this.#events = [];
    this.#waiter = undefined;
    const write = this.#writing.then(() => this.#records.writeBatch(batch));
    this.#writing = write.then(
      () => done?.resolve(),
      (err: unknown) => done?.reject(err),
    );
    return write;
  }

  /** Complete the call's CDR: billsec, disposition, cost by longest-prefix rate (outbound), wallet debit. */
  async ended(callId: string, end: CallEnd): Promise<CdrRow | undefined> {
    const open = this.#open.get(callId);
    if (open === undefined) return this.#endStored(callId, end);
    this.#open.delete(callId);
    const endedAt = end.endedAt ?? this.#now();
    const billsec = end.answeredAt === undefined ? 0 : Math.max(0, endedAt - end.answeredAt);
    const rate =
      open.row.direction === 'outbound'
        ? await this.#records.rateFor(open.row.account_id, open.row.to_number)
        : undefined;
    const costMicros = priceCall(rate, billsec);
    // A priced call debits the wallet: closed at once, in its own transaction.
    if (costMicros > 0) return this.#endStored(callId, end);
    const done: CdrRow = {
      ...open.row,
      answered_at: end.answeredAt ?? null,
      ended_at: endedAt,
      billsec,
      disposition: end.disposition,
      hangup_cause: end.hangupCause ?? null,
      cost_micros: 0,
      rate_id: rate?.id ?? null,
    };
    // Not written yet: the row is inserted complete; otherwise its completion is an update.
    if (open.written) this.#updates.push(done);
    else Object.assign(open.row, done);
    this.#listener?.('call.ended', done.account_id, { ...done });
    this.#events.push({
      accountId: done.account_id,
      callId,
      at: this.#now(),
      kind: 'ended',
      detail: end.disposition,
    });
    await this.#durable();
    return done;
  }

  /** The CDR is only in the store (another process, evicted, or priced): close it there. */
  async #endStored(callId: string, end: CallEnd): Promise<CdrRow | undefined> {
    await this.flush();
    const open = await this.#records.cdrByCallId(callId);
    if (open === undefined || open.disposition !== 'in_progress') return open;
    const endedAt = end.endedAt ?? this.#now();
    const billsec = end.answeredAt === undefined ? 0 : Math.max(0, endedAt - end.answeredAt);
    const rate =
      open.direction === 'outbound'
        ? await this.#records.rateFor(open.account_id, open.to_number)
        : undefined;
    const cost = { costMicros: priceCall(rate, billsec), rateId: rate?.id ?? null };
    const row = await this.#records.closeCdr(
      {
        callId,
        answeredAt: end.answeredAt,
        endedAt,
        disposition: end.disposition,
        hangupCause: end.hangupCause,
      },
      cost,
    );
    if (row !== undefined) {
      this.#listener?.('call.ended', row.account_id, { ...row });
      await this.#records.addEvent(row.account_id, callId, 'ended', end.disposition);
    }
    return row;
  }
}
