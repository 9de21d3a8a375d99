import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Result } from '../../src/errors/ctl-errors.js';
import { loadMasterKey } from '../../src/store/master-key.js';
import type { WriteOutcome } from '../../src/store/config-store.js';
import { openDatabase } from '../../src/store/sqlite/open-database.js';
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-config-store.js';
import type { EditableTable } from '../../src/store/table-specs.js';
import { ManualWallClock } from '../../src/util/wall-clock.js';

export interface TestStore {
  store: SqliteConfigStore;
  clock: ManualWallClock;
  dir: string;
  /** Waits for the store's CDR writer thread to let go of the file, then deletes the directory. */
  close(): Promise<void>;
}

/** A fresh SQLite store in a temporary directory, on a manual wall clock. */
export function openTestStore(clock = new ManualWallClock()): TestStore {
  const dir = mkdtempSync(join(tmpdir(), 'sb-control-'));
  const key = loadMasterKey(dir, {});
  if (!key.ok) throw key.error;
  const store = new SqliteConfigStore({
    db: openDatabase({ dataDir: dir }),
    masterKey: key.value,
    clock,
  });
  return {
    store,
    clock,
    dir,
    async close() {
      await store.closeAsync();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function must<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

/** Create a row and return its id (throws with the error code when the store refuses). */
export async function create(
  store: SqliteConfigStore,
  table: EditableTable,
  body: Record<string, unknown>,
): Promise<string> {
  const out: WriteOutcome = must(await store.table(table).create(body));
  return String(out.row['id']);
}
