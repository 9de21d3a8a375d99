import type { Database, Statement } from 'better-sqlite3';
import { CtlError, fail, ok } from '../../errors/ctl-errors.js';
import type { Result } from '../../errors/ctl-errors.js';
import { newId } from '../../util/ids.js';
import type { WallClock } from '../../util/wall-clock.js';
import type { ListQuery, Page, PublicRow, TableRepository, WriteOutcome } from '../config-store.js';
import type { ChildSpec, TableSpec } from '../table-spec.js';
import { validateWrite } from '../validate-row.js';
import type { ValidatedWrite } from '../validate-row.js';
import type { ReferenceChecker } from './reference-checker.js';
import { encodeFilter, toPublicRow } from './row-codec.js';
import type { StoredRow } from './row-codec.js';
import { mapSqliteError } from './sqlite-errors.js';
import type { TableHooks, WriteHookContext } from './write-hooks.js';

export interface SqliteTableRepositoryOptions {
  db: Database;
  spec: TableSpec;
  allSpecs: readonly TableSpec[];
  refs: ReferenceChecker;
  hooks: TableHooks | undefined;
  clock: WallClock;
  /** Called after every committed write (cache invalidation). */
  onWrite: () => void;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

/** Generic CRUD over one table spec with cached prepared statements; every write is one transaction. */
export class SqliteTableRepository implements TableRepository {
  readonly spec: TableSpec;
  #o: SqliteTableRepositoryOptions;
  #stmts = new Map<string, Statement>();
  #tableColumns = new Map<string, Set<string>>();

  constructor(options: SqliteTableRepositoryOptions) {
    this.#o = options;
    this.spec = options.spec;
  }

  create(body: unknown): Promise<Result<WriteOutcome>> {
    const v = validateWrite(this.spec, body, 'create');
    if (!v.ok) return Promise.resolve(v);
    return Promise.resolve(this.#transact(() => this.createSync(v.value)));
  }

  update(id: string, patch: unknown): Promise<Result<WriteOutcome>> {
    const v = validateWrite(this.spec, patch, 'update');
    if (!v.ok) return Promise.resolve(v);
    return Promise.resolve(this.#transact(() => this.#updateSync(id, v.value)));
  }

  get(id: string): Promise<PublicRow | undefined> {
    return Promise.resolve(this.getSync(id));
  }

  list(query: ListQuery): Promise<Result<Page<PublicRow>>> {
    return Promise.resolve(this.#list(query));
  }

  remove(id: string): Promise<Result<{ id: string }>> {
    return Promise.resolve(this.#transact(() => this.#removeSync(id)));
  }

  /** Create inside the caller's transaction (bulk import). Throws CtlError. */
  createSync(v: ValidatedWrite): WriteOutcome {
    const spec = this.spec;
    const id = newId(spec.prefix);
    const accountId = spec.tenant ? v.columns['account_id'] : id;
    if (typeof accountId !== 'string')
      throw new CtlError('CTL_ERR_VALIDATION', 'account_id is required', 'account_id');
    if (spec.tenant && this.#o.refs.ownerOf('account', accountId) === undefined) {
      throw new CtlError(
        'CTL_ERR_REFERENCE',
        `account_id ${accountId} does not exist`,
        'account_id',
      );
    }
    const ctx = this.#context('create', id, accountId, v, undefined);
    this.#o.hooks?.before?.(ctx);
    this.#o.refs.checkRefs(spec.columns, ctx.columns, accountId);
    this.#o.refs.checkDests(spec, ctx.columns, accountId);
    const row = { ...ctx.columns, id, created_at: ctx.now, updated_at: ctx.now };
    this.#insert(spec.table, row);
    this.#writeChildren(id, accountId, v.children, ctx.now);
    this.#o.hooks?.after?.(ctx);
    return this.#outcome(id, ctx.reveal);
  }

  getSync(id: string): PublicRow | undefined {
    const row = this.#stored(id);
    if (row === undefined) return undefined;
    const out = toPublicRow(this.spec.columns, row);
    for (const [name, child] of Object.entries(this.spec.children ?? {}))
      out[name] = this.#readChildren(child, id);
    return out;
  }

  #updateSync(id: string, v: ValidatedWrite): WriteOutcome {
    const existing = this.#stored(id);
    if (existing === undefined)
      throw new CtlError('CTL_ERR_NOT_FOUND', `${this.spec.table} ${id} not found`);
    const accountId = String(this.spec.tenant ? existing['account_id'] : id);
    const ctx = this.#context('update', id, accountId, v, existing);
    this.#o.hooks?.before?.(ctx);
    this.#o.refs.checkRefs(this.spec.columns, ctx.columns, accountId);
    this.#o.refs.checkDests(this.spec, { ...existing, ...ctx.columns }, accountId);
    const names = Object.keys(ctx.columns);
    if (names.length > 0 || Object.keys(v.children).length > 0) {
      const set = [...names, 'updated_at'];
      const sql = `UPDATE ${this.spec.table} SET ${set.map((n) => `${n} = @${n}`).join(', ')} WHERE id = @id`;
      this.#stmt(sql).run({ ...ctx.columns, updated_at: ctx.now, id });
    }
    this.#writeChildren(id, accountId, v.children, ctx.now, true);
    this.#o.hooks?.after?.(ctx);
    return this.#outcome(id, ctx.reveal);
  }

  #removeSync(id: string): { id: string } {
    const existing = this.#stored(id);
    if (existing === undefined)
      throw new CtlError('CTL_ERR_NOT_FOUND', `${this.spec.table} ${id} not found`);
    const accountId = String(this.spec.tenant ? existing['account_id'] : id);
    for (const other of this.#o.allSpecs) {
      const using = this.#o.refs.referrers(other, accountId, id).filter((r) => r !== id);
      if (using.length > 0) {
        throw new CtlError(
          'CTL_ERR_CONFLICT',
          `${id} is the route target of ${other.table} ${using.join(', ')}`,
        );
      }
    }
    for (const [name, value] of Object.entries(existing)) {
      if (name.endsWith('secret_ref') && typeof value === 'string')
        this.#stmt('DELETE FROM secret WHERE id = ?').run(value);
    }
    this.#stmt(`DELETE FROM ${this.spec.table} WHERE id = ?`).run(id);
    return { id };
  }

  #list(query: ListQuery): Result<Page<PublicRow>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      return fail('CTL_ERR_VALIDATION', `limit must be an integer from 1 to ${MAX_LIMIT}`, 'limit');
    }
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.accountIds !== undefined) {
      where.push(`${this.spec.tenant ? 'account_id' : 'id'} IN (SELECT value FROM json_each(?))`);
      params.push(JSON.stringify(query.accountIds));
    }
    for (const [name, value] of Object.entries(query.filters ?? {}).sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      if (!this.spec.filters.includes(name))
        return fail('CTL_ERR_VALIDATION', `${name} is not a filter of ${this.spec.resource}`, name);
      where.push(`${name} = ?`);
      params.push(encodeFilter(this.spec, name, value));
    }
    if (query.cursor !== undefined) {
      where.push('id > ?');
      params.push(query.cursor);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const rows = this.#stmt(`SELECT id FROM ${this.spec.table} ${clause} ORDER BY id LIMIT ?`).all(
      ...params,
      limit + 1,
    ) as {
      id: string;
    }[];
    const more = rows.length > limit;
    const items = rows
      .slice(0, limit)
      .map((r) => this.getSync(r.id))
      .filter((r): r is PublicRow => r !== undefined);
    return ok({ items, next_cursor: more ? (rows[limit - 1]?.id ?? null) : null });
  }

  #context(
    mode: 'create' | 'update',
    id: string,
    accountId: string,
    v: ValidatedWrite,
    existing: StoredRow | undefined,
  ): WriteHookContext {
    const now = Math.floor(this.#o.clock.nowMs() / 1000);
    return {
      mode,
      id,
      accountId,
      columns: { ...v.columns },
      virtual: v.virtual,
      existing,
      reveal: {},
      now,
    };
  }

  #outcome(id: string, reveal: Record<string, string>): WriteOutcome {
    const row = this.getSync(id) ?? { id };
    return Object.keys(reveal).length > 0 ? { row, revealed: reveal } : { row };
  }

  #writeChildren(
    parentId: string,
    accountId: string,
    children: ValidatedWrite['children'],
    now: number,
    replace = false,
  ): void {
    for (const [name, rows] of Object.entries(children)) {
      const child = this.spec.children?.[name];
      if (child === undefined) continue;
      if (replace)
        this.#stmt(`DELETE FROM ${child.table} WHERE ${child.parentColumn} = ?`).run(parentId);
      const have = this.#columnsOf(child.table);
      for (const [i, input] of rows.entries()) {
        this.#o.refs.checkRefs(child.columns, input, accountId, `${name}[${i}].`);
        const row: Record<string, unknown> = {
          ...input,
          [child.parentColumn]: parentId,
          account_id: accountId,
        };
        if (child.prefix !== undefined) row['id'] = newId(child.prefix);
        if (child.positionColumn !== undefined) row[child.positionColumn] = i;
        if (have.has('created_at')) Object.assign(row, { created_at: now, updated_at: now });
        this.#insert(child.table, row);
      }
    }
  }

  #readChildren(child: ChildSpec, parentId: string): PublicRow[] {
    const order = child.positionColumn ?? (child.prefix !== undefined ? 'id' : 'rowid');
    const rows = this.#stmt(
      `SELECT * FROM ${child.table} WHERE ${child.parentColumn} = ? ORDER BY ${order}`,
    ).all(parentId) as StoredRow[];
    return rows.map((r) => {
      const out = toPublicRow(child.columns, r);
      return child.prefix !== undefined ? { id: r['id'], ...out } : out;
    });
  }

  #insert(table: string, row: Record<string, unknown>): void {
    const names = Object.keys(row).sort();
    const sql = `INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map((n) => `@${n}`).join(', ')})`;
    this.#stmt(sql).run(row);
  }

  #stored(id: string): StoredRow | undefined {
    return this.#stmt(`SELECT * FROM ${this.spec.table} WHERE id = ?`).get(id) as
      StoredRow | undefined;
  }

  #columnsOf(table: string): Set<string> {
    let cols = this.#tableColumns.get(table);
    if (cols === undefined) {
      const info = this.#o.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
      cols = new Set(info.map((c) => c.name));
      this.#tableColumns.set(table, cols);
    }
    return cols;
  }

  #stmt(sql: string): Statement {
    let s = this.#stmts.get(sql);
    if (s === undefined) {
      s = this.#o.db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  #transact<T>(fn: () => T): Result<T> {
    try {
      const value = this.#o.db.transaction(fn)();
      this.#o.onWrite();
      return ok(value);
    } catch (err) {
      return { ok: false, error: mapSqliteError(err) };
    }
  }
}
