/**
 * The CDR writer thread (worker_threads): owns its own better-sqlite3 connection to the store's
 * file (WAL: readers on the main thread are never blocked by its commits) and writes the batches
 * the main thread posts, one transaction each, in order. Replies `{ id, ok }` per batch; a failed
 * batch is answered with the error, never thrown out of the thread. `{ kind: 'close' }` closes the
 * connection after the batches posted before it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { prepareBatchWriter } from './records-batch.js';
import type { CdrWorkerReply, CdrWorkerRequest, CdrWorkerData } from './cdr-worker-writer.js';

function errorReply(id: number, err: unknown): CdrWorkerReply {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return { id, ok: false, message: e.message, code: typeof code === 'string' ? code : undefined };
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
  port.on('message', (msg: CdrWorkerRequest) => {
    if (msg.kind === 'close') {
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
