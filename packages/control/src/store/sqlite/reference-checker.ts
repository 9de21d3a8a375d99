import type { Database, Statement } from 'better-sqlite3';
import { CtlError } from '../../errors/ctl-errors.js';
import { DEST_KINDS, DEST_TABLE, destColumns } from '../table-spec.js';
import type { ColumnSpec, DestKind, TableName, TableSpec } from '../table-spec.js';
import type { StoredRow } from './row-codec.js';

const FORWARD_TARGET = /^\+?[0-9*#]{1,20}$/;
const CONFERENCE_ROOM = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Checks that ids written into a row point at rows of the same account: plain references
 * (`user_id`, `schedule_id`) and route targets (`dest_kind` + `dest_id`, validated on save).
 * Throws CtlError; runs inside the write transaction.
 */
export class ReferenceChecker {
  #db: Database;
  #owner = new Map<string, Statement<[string], { account_id: string }>>();
  #referrers = new Map<string, Statement<[string, string], { id: string }>>();

  constructor(db: Database) {
    this.#db = db;
  }

  /** Account owning row `id` of `table`, or undefined when there is no such row. */
  ownerOf(table: TableName, id: string): string | undefined {
    let stmt = this.#owner.get(table);
    if (stmt === undefined) {
      const col = table === 'account' ? 'id' : 'account_id';
      stmt = this.#db.prepare(`SELECT ${col} AS account_id FROM ${table} WHERE id = ?`);
      this.#owner.set(table, stmt);
    }
    return stmt.get(id)?.account_id;
  }

  checkRefs(
    columns: Readonly<Record<string, ColumnSpec>>,
    row: StoredRow,
    accountId: string,
    path = '',
  ): void {
    for (const [name, spec] of Object.entries(columns)) {
      const value = row[name];
      if (spec.ref === undefined || typeof value !== 'string' || name === 'account_id') continue;
      const owner = this.ownerOf(spec.ref, value);
      // account refs (parent_id) only need to exist; tenant refs must stay inside the account
      if (owner === undefined || (spec.ref !== 'account' && owner !== accountId)) {
        throw new CtlError(
          'CTL_ERR_REFERENCE',
          `${path}${name} ${value} does not exist in this account`,
          `${path}${name}`,
        );
      }
    }
  }

  /** Every route target of the (merged) row is consistent and points inside the account. */
  checkDests(spec: TableSpec, row: StoredRow, accountId: string): void {
    for (const p of spec.dests) {
      const c = destColumns(p);
      const kind = row[c.kind] as string | null | undefined;
      const id = row[c.id] as string | null | undefined;
      if (kind === null || kind === undefined) {
        if (id !== null && id !== undefined) {
          throw new CtlError('CTL_ERR_VALIDATION', `${c.id} given without ${c.kind}`, c.id);
        }
        continue;
      }
      this.checkDest(kind as DestKind, id ?? null, accountId, c.id);
    }
  }

  checkDest(kind: DestKind, id: string | null, accountId: string, field: string): void {
    if (!DEST_KINDS.includes(kind))
      throw new CtlError('CTL_ERR_VALIDATION', `unknown dest_kind ${kind}`, field);
    if (kind === 'hangup') {
      if (id !== null)
        throw new CtlError('CTL_ERR_VALIDATION', `${field} must be null for hangup`, field);
      return;
    }
    if (id === null)
      throw new CtlError('CTL_ERR_VALIDATION', `${field} is required for ${kind}`, field);
    if (kind === 'forward') {
      if (!FORWARD_TARGET.test(id))
        throw new CtlError('CTL_ERR_VALIDATION', `${field} must be a phone number`, field);
      return;
    }
    if (kind === 'conference') {
      if (!CONFERENCE_ROOM.test(id))
        throw new CtlError('CTL_ERR_VALIDATION', `${field} must be a room name`, field);
      return;
    }
    const table = DEST_TABLE[kind];
    if (table !== undefined && this.ownerOf(table, id) !== accountId) {
      throw new CtlError(
        'CTL_ERR_REFERENCE',
        `${field} ${id} is not a ${kind} of this account`,
        field,
      );
    }
  }

  /** Ids of rows in `spec` whose route targets point at `id` (to refuse deleting a live target). */
  referrers(spec: TableSpec, accountId: string, id: string): string[] {
    const found: string[] = [];
    for (const p of spec.dests) {
      const col = destColumns(p).id;
      const key = `${spec.table}.${col}`;
      let stmt = this.#referrers.get(key);
      if (stmt === undefined) {
        const acc = spec.tenant ? 'account_id' : 'id';
        stmt = this.#db.prepare(
          `SELECT id FROM ${spec.table} WHERE ${acc} = ? AND ${col} = ? LIMIT 5`,
        );
        this.#referrers.set(key, stmt);
      }
      for (const r of stmt.all(accountId, id)) found.push(r.id);
    }
    return found;
  }
}
