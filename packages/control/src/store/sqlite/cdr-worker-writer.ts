import { Worker } from 'node:worker_threads';
import { CtlError } from '../../errors/ctl-errors.js';
import { newId } from '../../util/ids.js';
import type { RecordsBatch } from '../records-store.js';
import type { WireRecordsBatch } from './records-batch.js';

/** What the CDR worker is started with. */
export interface CdrWorkerData {
  /** The database file (never `:memory:`: a worker cannot share an in-memory database). */
  file: string;
  /** Shared `[generation, watching]` and how often to look (`CHANGE_WATCH_MS`); absent: no watch. */
  changes?: { shared: SharedArrayBuffer; intervalMs: number } | undefined;
}

/**
 * How often the worker reads `PRAGMA data_version` on its own connection. That value moves when
 * another connection commits (another process, or this process's main connection), never for the
 * worker's own CDR commits, so the main thread's decision cache is not dropped by them.
 */
export const CHANGE_WATCH_MS = 100;

export type CdrWorkerRequest =
  { kind: 'batch'; id: number; batch: WireRecordsBatch } | { kind: 'close' };

export type CdrWorkerReply =
  { id: number; ok: true } | { id: number; ok: false; message: string; code?: string | undefined };

export interface CdrWriterStats {
  /** Batches handed to the writer. */
  posted: number;
  /** Batches committed (by the worker, or on the main thread after it was gone). */
  written: number;
  /** Batches that failed (each also rejected its promise and went to `onError`). */
  failed: number;
  /** Batches posted and not answered yet. */
  pending: number;
  /** The worker is gone (failed to start or died): batches are written on the calling thread. */
  fallback: boolean;
}

export interface CdrWorkerWriterOptions {
  file: string;
  /** Writes a batch on the calling thread: used when the worker could not start or died. */
  fallback: (batch: WireRecordsBatch) => void;
  /** Told of every failure (failed batch, worker error); never throws. */
  onError?: ((err: unknown) => void) | undefined;
}

interface Waiter {
  batch: WireRecordsBatch;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The compiled worker next to this file. Run from sources (tests under tsx), the worker loads the
 * .ts file through tsx's loader: a worker does not inherit the parent's `--import` hooks.
 */
function startWorker(workerData: CdrWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./cdr-worker.js', import.meta.url), { workerData });
  const url = JSON.stringify(new URL('./cdr-worker.ts', import.meta.url).href);
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${url}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * Posts CDR batches to a worker thread that owns its own connection to the same SQLite file, so
 * the commits (and WAL checkpoints, fsync) never stall the event loop that carries SIP. Batches
 * are written in the order posted; each `write` resolves once its transaction committed, or
 * rejects with a `CTL_ERR_INTERNAL` CtlError (counted, reported to `onError`). The worker holds
 * the process open only while batches are pending. `close()` writes what was posted, closes the
 * worker's connection and waits for the thread to exit.
 */
export class CdrWorkerWriter {
  #worker: Worker | undefined;
  readonly #fallback: (batch: WireRecordsBatch) => void;
  readonly #onError: (err: unknown) => void;
  readonly #pending = new Map<number, Waiter>();
  #nextId = 1;
  /** The worker opened the database and prepared its statements. */
  #ready = false;
  #closed: Promise<void> | undefined;
  #stats = { posted: 0, written: 0, failed: 0 };
  /** `[generation, watching]`: bumped by the worker on a commit by another connection. */
  readonly #changes = new Int32Array(new SharedArrayBuffer(8));
  #seenGeneration = 0;

  constructor(options: CdrWorkerWriterOptions) {
    this.#fallback = options.fallback;
    this.#onError = options.onError ?? (() => undefined);
    const shared = this.#changes.buffer;
    const data: CdrWorkerData = {
      file: options.file,
      changes: { shared, intervalMs: CHANGE_WATCH_MS },
    };
    try {
      const worker = startWorker(data);
      worker.on('message', (reply: CdrWorkerReply) => this.#onReply(reply));
      worker.on('error', (err) => this.#onWorkerGone(err));
      worker.on('exit', (code) => {
        if (this.#worker === worker && this.#closed === undefined)
          this.#onWorkerGone(new Error(`CDR worker exited with code ${code}`));
      });
      worker.unref();
      this.#worker = worker;
    } catch (err) {
      this.#report(err);
    }
  }

  /**
   * Whether another connection (another process, or the main connection) committed since the
   * last call, as the worker's own connection saw it within `CHANGE_WATCH_MS`; the worker's CDR
   * commits never count. Undefined while the worker does not watch (starting, gone, closing):
   * the caller then asks its own connection.
   */
  changedElsewhere(): boolean | undefined {
    if (this.#worker === undefined || this.#closed !== undefined) return undefined;
    if (Atomics.load(this.#changes, 1) !== 1) return undefined;
    const generation = Atomics.load(this.#changes, 0);
    const changed = generation !== this.#seenGeneration;
    this.#seenGeneration = generation;
    return changed;
  }

  stats(): CdrWriterStats {
    return { ...this.#stats, pending: this.#pending.size, fallback: this.#worker === undefined };
  }

  /** Writes `batch` in one transaction, after every batch posted before it. */
  write(batch: RecordsBatch): Promise<void> {
    this.#stats.posted++;
    // Event ids are given here, on the main thread: events keep one id order across both writers.
    const wire: WireRecordsBatch = {
      inserts: batch.inserts,
      updates: batch.updates,
      events: batch.events.map((e) => ({ ...e, id: newId('cev') })),
    };
    const worker = this.#worker;
    if (worker === undefined || this.#closed !== undefined) return this.#writeHere(wire);
    const id = this.#nextId++;
    const done = new Promise<void>((resolve, reject) =>
      this.#pending.set(id, { batch: wire, resolve, reject }),
    );
    worker.postMessage({ kind: 'batch', id, batch: wire } satisfies CdrWorkerRequest);
    // A pending batch keeps the process alive until it is written.
    if (this.#pending.size === 1) worker.ref();
    return done;
  }

  /** Writes what was posted, closes the worker's connection and waits for the thread to end. */
  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    const worker = this.#worker;
    if (worker === undefined) return (this.#closed = Promise.resolve());
    worker.ref();
    this.#closed = new Promise<void>((resolve) => {
      worker.once('exit', () => {
        this.#worker = undefined;
        this.#failPending(new Error('CDR worker exited before writing the batch'));
        resolve();
      });
    });
    worker.postMessage({ kind: 'close' } satisfies CdrWorkerRequest);
    return this.#closed;
  }

  #writeHere(batch: WireRecordsBatch): Promise<void> {
    try {
      this.#fallback(batch);
      this.#stats.written++;
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(this.#failure(err instanceof Error ? err.message : String(err)));
    }
  }

  #onReply(reply: CdrWorkerReply): void {
    if (reply.id === 0) {
      this.#ready = true;
      return;
    }
    const waiter = this.#pending.get(reply.id);
    if (waiter === undefined) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0 && this.#closed === undefined) this.#worker?.unref();
    if (reply.ok) {
      this.#stats.written++;
      waiter.resolve();
    } else {
      waiter.reject(this.#failure(reply.message, reply.code));
    }
  }

  /**
   * The worker failed to start or died: later batches are written here. Batches posted before
   * it was ready were never written by it, so they are written here too; a batch it may have been
   * committing when it died fails (writing it again could duplicate its rows).
   */
  #onWorkerGone(err: unknown): void {
    this.#worker = undefined;
    this.#report(err);
    if (!this.#ready) {
      const waiting = [...this.#pending.values()];
      this.#pending.clear();
      for (const w of waiting) this.#writeHere(w.batch).then(w.resolve, w.reject);
      return;
    }
    this.#failPending(err);
  }

  #failPending(cause: unknown): void {
    const message = cause instanceof Error ? cause.message : String(cause);
    for (const w of this.#pending.values()) w.reject(this.#failure(message));
    this.#pending.clear();
  }

  #failure(message: string, sqliteCode?: string): CtlError {
    this.#stats.failed++;
    const err = new CtlError(
      'CTL_ERR_INTERNAL',
      `CDR batch not written: ${message}${sqliteCode ? ` (${sqliteCode})` : ''}`,
    );
    this.#report(err);
    return err;
  }

  #report(err: unknown): void {
    try {
      this.#onError(err);
    } catch {
      // a reporter that throws must not break the writer
    }
  }
}
