import type { Database, Statement } from 'better-sqlite3';
import type { WallClock } from '../../util/wall-clock.js';
import { systemWallClock } from '../../util/wall-clock.js';
import { CachingDirectory } from '../caching-directory.js';
import type { ConfigStore, TableRepository } from '../config-store.js';
import type { Directory } from '../directory.js';
import type { MasterKey } from '../master-key.js';
import { migrate } from '../migrations.js';
import { TABLE_SPECS } from '../table-specs.js';
import type { EditableTable } from '../table-specs.js';
import { ReferenceChecker } from './reference-checker.js';
import { SqliteApiKeyStore } from './sqlite-api-key-store.js';
import { SqliteBulkImporter } from './sqlite-bulk-importer.js';
import { SqliteDirectory } from './sqlite-directory.js';
import { SqliteRecordsStore, type SqliteRecordsStoreOptions } from './sqlite-records-store.js';
import { SqliteSecretStore } from './sqlite-secret-store.js';
import { SqliteTableRepository } from './sqlite-table-repository.js';
import { SqliteWebhookQueue } from './sqlite-webhook-queue.js';
import { createWriteHooks } from './write-hooks.js';

export interface SqliteConfigStoreOptions {
  db: Database;
  masterKey: MasterKey;
  clock?: WallClock;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /** Answer decision reads from memory until the next write (default true). */
  cache?: boolean;
  /** CDR batch writing (default: a worker thread for a file database; see SqliteRecordsStore). */
  records?: SqliteRecordsStoreOptions;
}

/**
 * Whether another connection committed since the last probe. The CDR worker's connection answers
 * when it watches: the worker's own commits (a batch every few ms under load) would otherwise
 * move this connection's `PRAGMA data_version` and drop the whole decision cache each probe.
 * Without a watching worker, this connection's data_version answers. Switching between the two
 * counts as a change (what happened in between is not known).
 */
function changeProbe(db: Database, records: SqliteRecordsStore): () => boolean {
  let dataVersion: unknown = db.pragma('data_version', { simple: true });
  let byWorker = false;
  return () => {
    const worker = records.changedElsewhere();
    const switched = (worker !== undefined) !== byWorker;
    byWorker = worker !== undefined;
    if (worker !== undefined) return worker || switched;
    const v: unknown = db.pragma('data_version', { simple: true });
    const changed = v !== dataVersion;
    dataVersion = v;
    return changed || switched;
  };
}

/** The SQLite configuration store: one database, repositories per table group, prepared statements. */
export class SqliteConfigStore implements ConfigStore {
  readonly directory: Directory;
  readonly sqliteDirectory: SqliteDirectory;
  readonly secrets: SqliteSecretStore;
  readonly apiKeys: SqliteApiKeyStore;
  readonly records: SqliteRecordsStore;
  readonly importer: SqliteBulkImporter;
  readonly webhooks: SqliteWebhookQueue;
  readonly db: Database;
  #repos = new Map<string, SqliteTableRepository>();
  #subtree: Statement<[string], { id: string }>;
  #anyAccount: Statement<[], { id: string }>;

  constructor(options: SqliteConfigStoreOptions) {
    const { db } = options;
    const clock = options.clock ?? systemWallClock;
    if (options.migrate !== false) migrate(db);
    this.db = db;
    this.sqliteDirectory = new SqliteDirectory(db);
    let forgetWallet: (accountId: string) => void = () => undefined;
    this.records = new SqliteRecordsStore(
      db,
      clock,
      (accountId) => forgetWallet(accountId),
      options.records,
    );
    const cached =
      options.cache === false
        ? undefined
        : new CachingDirectory(this.sqliteDirectory, {
            changedElsewhere: changeProbe(db, this.records),
          });
    if (cached !== undefined) forgetWallet = (accountId) => cached.forget('wallet', accountId);
    this.directory = cached ?? this.sqliteDirectory;
    this.secrets = new SqliteSecretStore(db, options.masterKey, clock);
    this.apiKeys = new SqliteApiKeyStore(db, clock);
    this.webhooks = new SqliteWebhookQueue(db);
    const refs = new ReferenceChecker(db);
    const hooks = createWriteHooks({ db, secrets: this.secrets, refs });
    const onWrite = () => {
      this.sqliteDirectory.invalidate();
      cached?.invalidate();
      this.webhooks.invalidate();
      this.records.forgetRates();
    };
    for (const spec of TABLE_SPECS) {
      this.#repos.set(
        spec.table,
        new SqliteTableRepository({
          db,
          spec,
          allSpecs: TABLE_SPECS,
          refs,
          hooks: hooks[spec.table],
          clock,
          onWrite,
        }),
      );
    }
    this.importer = new SqliteBulkImporter(db, clock, (t) => this.#repo(t), onWrite);
    this.#subtree =
      db.prepare(`WITH RECURSIVE sub(id, depth) AS (SELECT id, 0 FROM account WHERE id = ?
                                UNION ALL SELECT a.id, sub.depth + 1 FROM account a JOIN sub ON a.parent_id = sub.id WHERE sub.depth < 16)
                                SELECT id FROM sub ORDER BY depth, id`);
    this.#anyAccount = db.prepare('SELECT id FROM account LIMIT 1');
  }

  #repo(table: string): SqliteTableRepository {
    const repo = this.#repos.get(table);
    if (repo === undefined) throw new Error(`no repository for ${table}`);
    return repo;
  }

  table(name: EditableTable): TableRepository {
    return this.#repo(name);
  }

  accountSubtree(accountId: string): Promise<string[]> {
    return Promise.resolve(this.#subtree.all(accountId).map((r) => r.id));
  }

  isEmpty(): Promise<boolean> {
    return Promise.resolve(this.#anyAccount.get() === undefined);
  }

  /**
   * Closes the database. The CDR worker (if any) writes the batches already posted, then closes
   * its own connection; the process stays up until it has. Await `closeAsync()` to know when.
   */
  close(): void {
    void this.closeAsync();
  }

  /** `close()`, resolving once the CDR worker has written every posted batch and ended. */
  async closeAsync(): Promise<void> {
    const records = this.records.close();
    if (this.db.open) {
      this.webhooks.flush();
      this.db.close();
    }
    await records;
  }
}
