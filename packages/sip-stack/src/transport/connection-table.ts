/**
 * Open stream connections indexed by flow id, by remote endpoint (for reuse, RFC 3261 §18.1.1 and
 * §18.2.2) and counted by remote address (per-peer limit).
 */
import type { Connection } from './connection.js';
import type { TransportProtocol } from './transport.js';
import { normaliseAddress } from './ip-address.js';

function peerKey(protocol: TransportProtocol, address: string, port: number): string {
  return `${protocol}|${normaliseAddress(address)}|${port}`;
}

export class ConnectionTable {
  readonly #byFlowId = new Map<string, Connection>();
  readonly #byPeer = new Map<string, Connection[]>();
  readonly #perAddress = new Map<string, number>();

  get size(): number {
    return this.#byFlowId.size;
  }

  values(): IterableIterator<Connection> {
    return this.#byFlowId.values();
  }

  get(flowId: string): Connection | undefined {
    return this.#byFlowId.get(flowId);
  }

  /** Connections open from or to this IP address (any port, any protocol). */
  countForAddress(address: string): number {
    return this.#perAddress.get(normaliseAddress(address)) ?? 0;
  }

  /** The most recently active open connection to exactly this remote endpoint. */
  find(protocol: TransportProtocol, address: string, port: number): Connection | undefined {
    const list = this.#byPeer.get(peerKey(protocol, address, port));
    let best: Connection | undefined;
    for (const c of list ?? []) {
      if (!c.closed && (best === undefined || c.lastActivity > best.lastActivity)) best = c;
    }
    return best;
  }

  add(conn: Connection): void {
    if (this.#byFlowId.has(conn.flowId)) return;
    this.#byFlowId.set(conn.flowId, conn);
    const key = peerKey(conn.protocol, conn.remote.address, conn.remote.port);
    const list = this.#byPeer.get(key);
    if (list === undefined) this.#byPeer.set(key, [conn]);
    else list.push(conn);
    const addr = normaliseAddress(conn.remote.address);
    this.#perAddress.set(addr, (this.#perAddress.get(addr) ?? 0) + 1);
  }

  /** Idempotent. */
  remove(conn: Connection): boolean {
    if (this.#byFlowId.get(conn.flowId) !== conn) return false;
    this.#byFlowId.delete(conn.flowId);
    const key = peerKey(conn.protocol, conn.remote.address, conn.remote.port);
    const list = this.#byPeer.get(key)?.filter((c) => c !== conn);
    if (list === undefined || list.length === 0) this.#byPeer.delete(key);
    else this.#byPeer.set(key, list);
    const addr = normaliseAddress(conn.remote.address);
    const n = (this.#perAddress.get(addr) ?? 1) - 1;
    if (n <= 0) this.#perAddress.delete(addr);
    else this.#perAddress.set(addr, n);
    return true;
  }

  /** Connections with no traffic for at least `idleMs` at time `now`. */
  idle(now: number, idleMs: number): Connection[] {
    const out: Connection[] = [];
    for (const c of this.#byFlowId.values()) if (now - c.lastActivity >= idleMs) out.push(c);
    return out;
  }
}
