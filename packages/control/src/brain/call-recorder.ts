import type { CallEventInput, CdrRow, CdrStart, RecordsStore } from '../store/records-store.js';
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

const MAX_BATCH = 512;

/**
 * CDR rows at route time (batched into one transaction per tick, so routing never waits for a
 * write), completed, priced and debited at release; a call_event trace per call.
 */
export class CallRecorder {
  #records: RecordsStore;
  #clock: WallClock;
  #listener: CallEventListener | undefined;
  #pending: CdrStart[] = [];
  #events: CallEventInput[] = [];
  #scheduled = false;
  #onError: (err: unknown) => void;

  constructor(
    records: RecordsStore,
    clock: WallClock,
    listener?: CallEventListener,
    onError: (err: unknown) => void = () => undefined,
  ) {
    this.#records = records;
    this.#clock = clock;
    this.#listener = listener;
    this.#onError = onError;
  }

  #flushSafely(): void {
    this.flush().catch(this.#onError);
  }

  #now(): number {
    return Math.floor(this.#clock.nowMs() / 1000);
  }

  started(start: Omit<CdrStart, 'startedAt'>): void {
    const row: CdrStart = { ...start, startedAt: this.#now() };
    this.#pending.push(row);
    this.#schedule();
    this.#listener?.('call.started', start.accountId, {
      call_id: start.callId,
      direction: start.direction,
      from: start.fromNumber,
      to: start.toNumber,
      started_at: row.startedAt,
    });
  }

  #schedule(): void {
    if (this.#pending.length + this.#events.length >= MAX_BATCH) this.#flushSafely();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#flushSafely();
      });
    }
  }

  /** Write queued CDRs and events now, in one transaction. */
  async flush(): Promise<void> {
    if (this.#pending.length === 0 && this.#events.length === 0) return;
    const batch = this.#pending;
    const events = this.#events;
    this.#pending = [];
    this.#events = [];
    await this.#records.openCdrs(batch, events);
  }

  /** Queue a call_event trace entry (written with the next batch). */
  event(accountId: string, callId: string, kind: string, detail?: string): void {
    this.#events.push({ accountId, callId, at: this.#now(), kind, detail });
    this.#schedule();
  }

  /** Complete the call's CDR: billsec, disposition, cost by longest-prefix rate (outbound), wallet debit. */
  async ended(callId: string, end: CallEnd): Promise<CdrRow | undefined> {
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
