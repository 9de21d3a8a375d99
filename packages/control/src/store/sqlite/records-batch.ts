import type { Database } from 'better-sqlite3';
import { newId } from '../../util/ids.js';
import type { CallEventInput, RecordsBatch } from '../records-store.js';

/** A call event of a batch with its id already given (the main thread names events, in order). */
export interface NamedCallEvent extends CallEventInput {
  id?: string | undefined;
}

/** A records batch as it crosses to the CDR worker (plain data: structured clone). */
export interface WireRecordsBatch extends RecordsBatch {
  events: readonly NamedCallEvent[];
}

/**
 * The call recorder's batch on `db`: new CDR rows, completions, then events, in one transaction
 * (RecordsStore.writeBatch). Shared by the synchronous store and the CDR worker, which owns its
 * own connection to the same file.
 */
export function prepareBatchWriter(db: Database): (batch: WireRecordsBatch) => void {
  const insert = db.prepare(
    `INSERT INTO call_cdr (id, account_id, call_id, direction, from_number, to_number, user_id, did_id, trunk_id,
           started_at, answered_at, ended_at, billsec, disposition, hangup_cause, cost_micros, rate_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const update = db.prepare(
    `UPDATE call_cdr SET answered_at = ?, ended_at = ?, billsec = ?, disposition = ?, hangup_cause = ?,
          cost_micros = ?, rate_id = ? WHERE id = ?`,
  );
  const event = db.prepare(
    'INSERT INTO call_event (id, account_id, call_id, at, kind, detail) VALUES (?, ?, ?, ?, ?, ?)',
  );
  return db.transaction((batch: WireRecordsBatch) => {
    for (const c of batch.inserts) {
      insert.run(
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
      update.run(
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
      event.run(e.id ?? newId('cev'), e.accountId, e.callId, e.at, e.kind, e.detail ?? null);
  });
}
