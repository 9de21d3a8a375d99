import type { Result } from '../errors/ctl-errors.js';
import type { Page } from './config-store.js';

export type CallDirection = 'inbound' | 'outbound' | 'internal';
export type CallDisposition =
  'in_progress' | 'answered' | 'no_answer' | 'busy' | 'failed' | 'rejected';

export interface CdrStart {
  callId: string;
  accountId: string;
  direction: CallDirection;
  fromNumber: string;
  toNumber: string;
  userId?: string | undefined;
  didId?: string | undefined;
  trunkId?: string | undefined;
  startedAt: number;
}

export interface CdrEnd {
  callId: string;
  answeredAt?: number | undefined;
  endedAt: number;
  disposition: Exclude<CallDisposition, 'in_progress'>;
  hangupCause?: string | undefined;
}

export interface CdrRow {
  id: string;
  account_id: string;
  call_id: string;
  direction: CallDirection;
  from_number: string;
  to_number: string;
  user_id: string | null;
  did_id: string | null;
  trunk_id: string | null;
  started_at: number;
  answered_at: number | null;
  ended_at: number | null;
  billsec: number;
  disposition: CallDisposition;
  hangup_cause: string | null;
  cost_micros: number;
  rate_id: string | null;
}

export interface CallQuery {
  accountIds: readonly string[];
  since?: number | undefined;
  until?: number | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface RateInfo {
  id: string;
  prefix: string;
  pricePerMinMicros: number;
  connectFeeMicros: number;
  initialIncrementSec: number;
  incrementSec: number;
}

export interface CallEventInput {
  accountId: string;
  callId: string;
  at: number;
  kind: string;
  detail?: string | undefined;
}

export interface CallEventRow {
  id: string;
  call_id: string;
  at: number;
  kind: string;
  detail: string | null;
}

export interface RecordsBatch {
  inserts: readonly CdrRow[];
  /** Completed rows, matched by `id`: answered_at, ended_at, billsec, disposition, hangup_cause, cost, rate. */
  updates: readonly CdrRow[];
  events: readonly CallEventInput[];
}

/** CDRs, call-event traces, wallet and rates: append-mostly records written by the decisions. */
export interface RecordsStore {
  openCdr(start: CdrStart): Promise<string>;
  /**
   * One batch of the call recorder in one transaction: new CDR rows (in progress, or already
   * complete when the call ended before its row was written), completions of rows written by an
   * earlier batch (unpriced: no wallet change), and call events, in that order.
   */
  writeBatch(batch: RecordsBatch): Promise<void>;
  /** Completes the open CDR of the call, pricing it with `cost` and debiting the wallet in one transaction. */
  closeCdr(
    end: CdrEnd,
    cost: { costMicros: number; rateId: string | null },
  ): Promise<CdrRow | undefined>;
  cdrByCallId(callId: string): Promise<CdrRow | undefined>;
  addEvent(accountId: string, callId: string, kind: string, detail?: string): Promise<void>;
  events(callId: string): Promise<CallEventRow[]>;
  listCalls(query: CallQuery): Promise<Result<Page<CdrRow>>>;
  /** Longest-prefix rate of the account for a dialled number. */
  rateFor(accountId: string, number: string): Promise<RateInfo | undefined>;
  /** Add (or, negative, take) money; returns the new balance. */
  adjustWallet(
    accountId: string,
    amountMicros: number,
    reason: string,
    callId?: string,
  ): Promise<number>;
}
