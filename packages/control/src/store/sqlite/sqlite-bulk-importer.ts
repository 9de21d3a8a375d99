import type { Database, Statement } from 'better-sqlite3';
import { deviceDigests } from '../../auth/device-digests.js';
import { CtlError, ok } from '../../errors/ctl-errors.js';
import type { Result } from '../../errors/ctl-errors.js';
import { newId } from '../../util/ids.js';
import type { WallClock } from '../../util/wall-clock.js';
import type { BulkImporter, ImportOptions, ImportReport } from '../bulk-import.js';
import { TABLE_SPECS } from '../table-specs.js';
import { validateWrite } from '../validate-row.js';
import { mapSqliteError } from './sqlite-errors.js';
import type { SqliteTableRepository } from './sqlite-table-repository.js';

const USERNAME = /^[A-Za-z0-9._+-]{1,64}$/;
const DOMAIN = /^[a-z0-9.-]{1,253}$/;
const EXTENSION = /^[0-9*#]{1,16}$/;

interface Stmts {
  domain: Statement<[string], { id: string; account_id: string }>;
  account: Statement<[string], { id: string }>;
  insDomain: Statement;
  insUser: Statement;
  insDevice: Statement;
  insExt: Statement;
}

function field(
  row: Record<string, unknown>,
  name: string,
  line: string,
  required: boolean,
): string | undefined {
  const v = row[name];
  if (v === undefined || v === null || v === '') {
    if (required) throw new CtlError('CTL_ERR_VALIDATION', `${line}: ${name} is required`, name);
    return undefined;
  }
  if (typeof v !== 'string')
    throw new CtlError('CTL_ERR_VALIDATION', `${line}: ${name} must be a string`, name);
  return v;
}

/** SQLite bulk import: subscribers through dedicated prepared statements, other rows through the repositories. */
export class SqliteBulkImporter implements BulkImporter {
  #db: Database;
  #clock: WallClock;
  #repos: (table: string) => SqliteTableRepository;
  #s: Stmts;
  #onWrite: () => void;

  constructor(
    db: Database,
    clock: WallClock,
    repos: (table: string) => SqliteTableRepository,
    onWrite: () => void,
  ) {
    this.#db = db;
    this.#clock = clock;
    this.#repos = repos;
    this.#onWrite = onWrite;
    this.#s = {
      domain: db.prepare('SELECT id, account_id FROM sip_domain WHERE domain = ?'),
      account: db.prepare('SELECT id FROM account WHERE id = ?'),
      insDomain: db.prepare(
        'INSERT INTO sip_domain (id, account_id, domain, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
      ),
      insUser:
        db.prepare(`INSERT INTO sip_user (id, account_id, domain_id, username, display_name, caller_id_number, created_at, updated_at)
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      insDevice:
        db.prepare(`INSERT INTO sip_device (id, account_id, user_id, auth_username, realm, ha1, ha1b, ha1_sha256, ha1_sha512_256, created_at, updated_at)
                             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      insExt:
        db.prepare(`INSERT INTO extension (id, account_id, number, dest_kind, dest_id, created_at, updated_at)
                          VALUES (?, ?, ?, 'user', ?, ?, ?)`),
    };
  }

  importDocument(doc: unknown, options: ImportOptions = {}): Promise<Result<ImportReport>> {
    const started = performance.now();
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      return Promise.resolve({
        ok: false,
        error: new CtlError('CTL_ERR_VALIDATION', 'import file must hold a JSON object', 'body'),
      });
    }
    const d = doc as Record<string, unknown>;
    const known = new Set(['account_id', 'subscribers', ...TABLE_SPECS.map((s) => s.resource)]);
    const unknown = Object.keys(d).find((k) => !known.has(k));
    if (unknown !== undefined) {
      return Promise.resolve({
        ok: false,
        error: new CtlError('CTL_ERR_VALIDATION', `unknown section ${unknown}`, unknown),
      });
    }
    const defaultAccount =
      options.accountId ?? (typeof d['account_id'] === 'string' ? d['account_id'] : undefined);
    const report: ImportReport = { subscribers: 0, devices: 0, domains: 0, rows: {}, ms: 0 };
    try {
      this.#db.transaction(() => {
        this.#importTables(d, defaultAccount, report);
        const subs = d['subscribers'];
        if (subs !== undefined) this.#importSubscribers(subs, defaultAccount, options, report);
      })();
    } catch (err) {
      return Promise.resolve({ ok: false, error: mapSqliteError(err) });
    } finally {
      this.#onWrite();
    }
    report.ms = Math.round(performance.now() - started);
    return Promise.resolve(ok(report));
  }

  #importTables(
    d: Record<string, unknown>,
    defaultAccount: string | undefined,
    report: ImportReport,
  ): void {
    for (const spec of TABLE_SPECS) {
      const rows = d[spec.resource];
      if (rows === undefined) continue;
      if (!Array.isArray(rows))
        throw new CtlError(
          'CTL_ERR_VALIDATION',
          `${spec.resource} must be an array`,
          spec.resource,
        );
      const repo = this.#repos(spec.table);
      for (const [i, raw] of rows.entries()) {
        const body = { ...(raw as Record<string, unknown>) };
        if (spec.tenant && body['account_id'] === undefined && defaultAccount !== undefined)
          body['account_id'] = defaultAccount;
        const v = validateWrite(spec, body, 'create');
        if (!v.ok)
          throw new CtlError(
            v.error.code,
            `${spec.resource}[${i}]: ${v.error.message}`,
            v.error.field,
          );
        try {
          repo.createSync(v.value);
        } catch (err) {
          const e = mapSqliteError(err);
          throw new CtlError(e.code, `${spec.resource}[${i}]: ${e.message}`, e.field);
        }
        report.rows[spec.resource] = (report.rows[spec.resource] ?? 0) + 1;
      }
    }
  }

  #importSubscribers(
    subs: unknown,
    defaultAccount: string | undefined,
    options: ImportOptions,
    report: ImportReport,
  ): void {
    if (!Array.isArray(subs))
      throw new CtlError('CTL_ERR_VALIDATION', 'subscribers must be an array', 'subscribers');
    const now = Math.floor(this.#clock.nowMs() / 1000);
    const every = options.progressEvery ?? 10_000;
    const domains = new Map<string, { id: string; account_id: string }>();
    for (const [i, raw] of subs.entries()) {
      const line = `subscribers[${i}]`;
      if (typeof raw !== 'object' || raw === null)
        throw new CtlError('CTL_ERR_VALIDATION', `${line} must be an object`, line);
      try {
        this.#importSubscriber(
          raw as Record<string, unknown>,
          line,
          defaultAccount,
          domains,
          now,
          report,
        );
      } catch (err) {
        const e = mapSqliteError(err);
        throw e.message.startsWith(line)
          ? e
          : new CtlError(e.code, `${line}: ${e.message}`, e.field);
      }
      if ((i + 1) % every === 0) options.onProgress?.(i + 1, subs.length);
    }
    options.onProgress?.(subs.length, subs.length);
  }

  #importSubscriber(
    row: Record<string, unknown>,
    line: string,
    defaultAccount: string | undefined,
    domains: Map<string, { id: string; account_id: string }>,
    now: number,
    report: ImportReport,
  ): void {
    const accountId = field(row, 'account_id', line, false) ?? defaultAccount;
    if (accountId === undefined)
      throw new CtlError('CTL_ERR_VALIDATION', `${line}: account_id is required`, 'account_id');
    const domain = (field(row, 'domain', line, true) ?? '').toLowerCase();
    const username = field(row, 'username', line, true) ?? '';
    const password = field(row, 'password', line, true) ?? '';
    const extension = field(row, 'extension', line, false);
    if (!DOMAIN.test(domain))
      throw new CtlError('CTL_ERR_VALIDATION', `${line}: domain has an invalid format`, 'domain');
    if (!USERNAME.test(username))
      throw new CtlError(
        'CTL_ERR_VALIDATION',
        `${line}: username has an invalid format`,
        'username',
      );
    if (password.length < 8)
      throw new CtlError(
        'CTL_ERR_VALIDATION',
        `${line}: password must be at least 8 characters`,
        'password',
      );
    if (extension !== undefined && !EXTENSION.test(extension)) {
      throw new CtlError(
        'CTL_ERR_VALIDATION',
        `${line}: extension has an invalid format`,
        'extension',
      );
    }
    let dom = domains.get(domain) ?? this.#s.domain.get(domain);
    if (dom === undefined) {
      if (this.#s.account.get(accountId) === undefined) {
        throw new CtlError(
          'CTL_ERR_REFERENCE',
          `${line}: account_id ${accountId} does not exist`,
          'account_id',
        );
      }
      dom = { id: newId('dom'), account_id: accountId };
      this.#s.insDomain.run(dom.id, accountId, domain, now, now);
      report.domains++;
    }
    domains.set(domain, dom);
    if (dom.account_id !== accountId) {
      throw new CtlError(
        'CTL_ERR_REFERENCE',
        `${line}: domain ${domain} belongs to another account`,
        'domain',
      );
    }
    const userId = newId('us');
    const display = field(row, 'display_name', line, false) ?? null;
    const cid = field(row, 'caller_id_number', line, false) ?? null;
    this.#s.insUser.run(userId, accountId, dom.id, username, display, cid, now, now);
    const h = deviceDigests(username, domain, password);
    this.#s.insDevice.run(
      newId('dev'),
      accountId,
      userId,
      username,
      domain,
      h.ha1,
      h.ha1b,
      h.ha1_sha256,
      h.ha1_sha512_256,
      now,
      now,
    );
    if (extension !== undefined)
      this.#s.insExt.run(newId('ext'), accountId, extension, userId, now, now);
    report.subscribers++;
    report.devices++;
  }
}
