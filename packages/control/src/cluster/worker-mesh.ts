/**
 * The worker-to-worker channel: every worker listens on a unix domain stream socket and connects
 * to every other one (one sending connection per peer). Frames are length-prefixed binary:
 * `u32 length | u8 kind | body`; raw SIP bytes cross without any encoding. Writes made in one
 * tick leave in one batch (cork/uncork), which keeps the per-message cost low under load.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

/** Frame kinds. */
export type MeshFrameKind = 'inbound' | 'write' | 'control';
const KIND_CODE = { inbound: 1, write: 2, control: 3 } as const satisfies Record<
  MeshFrameKind,
  number
>;
const KIND_OF: readonly (MeshFrameKind | undefined)[] = [undefined, 'inbound', 'write', 'control'];

/** Largest frame accepted from a peer (a SIP message is at most 64 KiB; control frames are small). */
const MAX_FRAME = 1 << 22;

export interface MeshHandler {
  /** Raw received SIP bytes with the flow id they arrived on (`inbound`), or bytes to write on a held flow (`write`). */
  onFlowBytes(kind: 'inbound' | 'write', flowId: string, bytes: Buffer, from: number): void;
  onControl(value: unknown, from: number): void;
}

export function meshSocketPath(dir: string, worker: number): string {
  return join(dir, `w${worker}.sock`);
}

/** Encodes a frame carrying a flow id and bytes. */
export function encodeFlowFrame(kind: 'inbound' | 'write', flowId: string, bytes: Buffer): Buffer {
  const idLen = Buffer.byteLength(flowId, 'latin1');
  const frame = Buffer.allocUnsafe(4 + 1 + 2 + idLen + bytes.length);
  frame.writeUInt32BE(1 + 2 + idLen + bytes.length, 0);
  frame[4] = KIND_CODE[kind];
  frame.writeUInt16BE(idLen, 5);
  frame.write(flowId, 7, 'latin1');
  bytes.copy(frame, 7 + idLen);
  return frame;
}

function encodeControl(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame.writeUInt32BE(1 + body.length, 0);
  frame[4] = KIND_CODE.control;
  body.copy(frame, 5);
  return frame;
}

/** Splits a byte stream into frames and hands them to the handler; a bad frame closes the stream. */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);
  readonly #from: number;
  readonly #handler: MeshHandler;

  constructor(from: number, handler: MeshHandler) {
    this.#from = from;
    this.#handler = handler;
  }

  /** Returns false when the stream carries garbage. */
  push(chunk: Buffer): boolean {
    let buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32BE(off);
      if (len < 1 || len > MAX_FRAME) return false;
      if (buf.length - off < 4 + len) break;
      const kind = KIND_OF[buf[off + 4] ?? 0];
      const body = buf.subarray(off + 5, off + 4 + len);
      off += 4 + len;
      if (kind === undefined) return false;
      if (kind === 'control') {
        try {
          this.#handler.onControl(JSON.parse(body.toString('utf8')) as unknown, this.#from);
        } catch {
          return false;
        }
      } else {
        if (body.length < 2) return false;
        const idLen = body.readUInt16BE(0);
        const flowId = body.toString('latin1', 2, 2 + idLen);
        // copy: the SIP parser keeps views of its input, and `buf` is reused for later frames
        this.#handler.onFlowBytes(kind, flowId, Buffer.from(body.subarray(2 + idLen)), this.#from);
      }
    }
    buf = buf.subarray(off);
    this.#buf = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    return true;
  }
}

export interface WorkerMeshOptions {
  dir: string;
  index: number;
  workers: number;
  handler: MeshHandler;
}

export interface MeshStats {
  sentFrames: number;
  receivedFrames: number;
  droppedFrames: number;
}

export class WorkerMesh {
  readonly #opts: WorkerMeshOptions;
  readonly #peers = new Map<number, Socket>();
  readonly #inbound = new Set<Socket>();
  readonly #corked = new Set<Socket>();
  readonly stats: MeshStats = { sentFrames: 0, receivedFrames: 0, droppedFrames: 0 };
  #server: Server | undefined;
  #flushScheduled = false;

  constructor(options: WorkerMeshOptions) {
    this.#opts = options;
  }

  /** Listens on this worker's socket; peers connect to it. */
  async listen(): Promise<void> {
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(meshSocketPath(this.#opts.dir, this.#opts.index), () => resolve());
    });
    server.on('error', () => undefined);
  }

  /**
   * Connects to every other worker. All must be listening, unless `tolerant` (a restarted worker
   * joining while another is down): then returns how many could not be reached.
   */
  async connect(tolerant = false): Promise<number> {
    const { index, workers } = this.#opts;
    const pending: Promise<void>[] = [];
    for (let w = 0; w < workers; w++) if (w !== index) pending.push(this.connectTo(w));
    if (!tolerant) {
      await Promise.all(pending);
      return 0;
    }
    const results = await Promise.allSettled(pending);
    return results.filter((r) => r.status === 'rejected').length;
  }

  /**
   * Opens the sending connection to worker `w` (which must be listening), replacing a previous
   * one: also how the others reach a worker that was restarted.
   */
  connectTo(w: number): Promise<void> {
    const { index, dir } = this.#opts;
    this.#peers.get(w)?.destroy();
    return new Promise<void>((resolve, reject) => {
      const s = createConnection(meshSocketPath(dir, w), () => {
        s.setNoDelay?.(true);
        const hello = Buffer.alloc(4);
        hello.writeUInt32BE(index, 0);
        s.write(hello);
        this.#peers.set(w, s);
        s.removeAllListeners('error');
        s.on('error', () => undefined);
        resolve();
      });
      s.once('error', reject);
      s.on('close', () => {
        if (this.#peers.get(w) === s) this.#peers.delete(w);
      });
      s.resume(); // peers never write on this connection
    });
  }

  sendFlowBytes(to: number, kind: 'inbound' | 'write', flowId: string, bytes: Buffer): boolean {
    return this.#send(to, encodeFlowFrame(kind, flowId, bytes));
  }

  sendControl(to: number, value: unknown): boolean {
    return this.#send(to, encodeControl(value));
  }

  broadcastControl(value: unknown): void {
    const frame = encodeControl(value);
    for (const w of this.#peers.keys()) this.#send(w, frame);
  }

  async close(): Promise<void> {
    for (const s of this.#peers.values()) s.destroy();
    for (const s of this.#inbound) s.destroy();
    this.#peers.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #send(to: number, frame: Buffer): boolean {
    const s = this.#peers.get(to);
    if (s === undefined || s.destroyed) {
      this.stats.droppedFrames++;
      return false;
    }
    if (!this.#corked.has(s)) {
      s.cork();
      this.#corked.add(s);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        process.nextTick(() => this.#flush());
      }
    }
    s.write(frame);
    this.stats.sentFrames++;
    return true;
  }

  #flush(): void {
    this.#flushScheduled = false;
    for (const s of this.#corked) s.uncork();
    this.#corked.clear();
  }

  #accept(socket: Socket): void {
    this.#inbound.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.#inbound.delete(socket));
    let reader: FrameReader | undefined;
    let head = Buffer.alloc(0);
    const counting: MeshHandler = {
      onFlowBytes: (kind, id, bytes, from) => {
        this.stats.receivedFrames++;
        this.#opts.handler.onFlowBytes(kind, id, bytes, from);
      },
      onControl: (value, from) => {
        this.stats.receivedFrames++;
        this.#opts.handler.onControl(value, from);
      },
    };
    socket.on('data', (chunk: Buffer) => {
      if (reader === undefined) {
        head = Buffer.concat([head, chunk]);
        if (head.length < 4) return;
        reader = new FrameReader(head.readUInt32BE(0), counting);
        chunk = head.subarray(4);
        if (chunk.length === 0) return;
      }
      if (!reader.push(chunk)) socket.destroy();
    });
  }
}
