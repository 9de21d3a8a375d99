import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';

export const DATABASE_FILE = 'switchboard.db';

export interface OpenDatabaseOptions {
  /** Directory holding the database file; created if missing. `:memory:` opens an in-memory database. */
  dataDir: string;
  readonly?: boolean;
}

/** Open the SQLite configuration database with the pragmas the control plane relies on. */
export function openDatabase(options: OpenDatabaseOptions): Database {
  let file = ':memory:';
  if (options.dataDir !== ':memory:') {
    mkdirSync(options.dataDir, { recursive: true });
    file = join(options.dataDir, DATABASE_FILE);
  }
  const db = new BetterSqlite3(file, { readonly: options.readonly ?? false });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}
