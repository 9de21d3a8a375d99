/**
 * The CDR writer thread (worker_threads): owns its own better-sqlite3 connection to the store's
 * file (WAL: readers on the main thread are never blocked by its commits) and writes the batches
 * the main thread posts, one transaction each, in order. Replies `{ id, ok }` per batch; a failed
 * batch is answered with the error, never thrown out of the thread. `{ kind: 'close' }` closes the
 * connection after the batches posted before it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import type { CdrWorkerReply, CdrWorkerRequest, CdrWorkerData } from './cdr-worker-writer.js';
import { prepareBatchWriter } from './records-batch.js';

function errorReply(id: number, err: unknown): CdrWorkerReply {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return { id, ok: false, message: e.message, code: typeof code === 'string' ? code : undefined };
}

/**
 * Bumps the shared generation when `PRAGMA data_version` of this connection moves (a commit by
 * any other connection; this worker's own commits leave it as it is). Returns the stop function.
 */
function watchChanges(db: Database, changes: CdrWorkerData['changes']): () => void {
  if (changes === undefined) return () => undefined;
  const shared = new Int32Array(changes.shared);
  const read = (): unknown => db.pragma('data_version', { simple: true });
  let version = read();
  const timer = setInterval(() => {
    const now = read();
    if (now === version) return;
    version = now;
    Atomics.add(shared, 0, 1);
  }, changes.intervalMs);
  // The main thread trusts the generation from here on (commits before this are its own to see).
  Atomics.store(shared, 1, 1);
  return () => {
    Atomics.store(shared, 1, 0);
    clearInterval(timer);
  };
}

function run(): void {
  const port = parentPort;
  if (port === null) return;
  const data = workerData as CdrWorkerData;
  const db = new BetterSqlite3(data.file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const write = prepareBatchWriter(db);
  const stopWatch = watchChanges(db, data.changes);
  port.on('message', (msg: CdrWorkerRequest) => {
    if (msg.kind === 'close') {
      stopWatch();
      db.close();
      port.close();
      return;
    }
    try {
      write(msg.batch);
      port.postMessage({ id: msg.id, ok: true } satisfies CdrWorkerReply);
    } catch (err) {
      port.postMessage(errorReply(msg.id, err));
    }
  });
  port.postMessage({ id: 0, ok: true } satisfies CdrWorkerReply);
}

run();
