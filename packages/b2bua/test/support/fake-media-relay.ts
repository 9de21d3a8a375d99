/** An in-memory MediaRelay: hands out ports, records setRemote calls, counts open sessions. */
import type {
  MediaRelay,
  MediaRelaySession,
  MediaRelaySessionEvents,
  MediaRelayStats,
  RelayLocal,
  RelayRemote,
  RelaySide,
} from '../../src/media/media-relay.js';

export interface SetRemoteCall {
  session: number;
  side: RelaySide;
  remote: RelayRemote;
}

type Listener = (...args: unknown[]) => void;

export class FakeRelaySession implements MediaRelaySession {
  readonly id: number;
  readonly #sides: Record<RelaySide, RelayLocal>;
  readonly #relay: FakeMediaRelay;
  readonly #listeners = new Map<string, Listener[]>();
  readonly remotes: Partial<Record<RelaySide, RelayRemote>> = {};
  #closed = false;

  constructor(id: number, sides: Record<RelaySide, RelayLocal>, relay: FakeMediaRelay) {
    this.id = id;
    this.#sides = sides;
    this.#relay = relay;
  }

  get closed(): boolean {
    return this.#closed;
  }

  side(side: RelaySide): RelayLocal {
    return this.#sides[side];
  }

  setRemote(side: RelaySide, remote: RelayRemote): void {
    if (this.#closed) throw new Error(`session ${this.id} is closed`);
    this.remotes[side] = remote;
    this.#relay.setRemoteCalls.push({ session: this.id, side, remote });
  }

  stats(): MediaRelayStats {
    const side = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, lastPacketAt: undefined };
    return { a: side, b: side };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#relay.released(this);
    this.emit('closed', { reason: 'closed' });
  }

  on<K extends keyof MediaRelaySessionEvents>(
    event: K,
    listener: (...args: MediaRelaySessionEvents[K]) => void,
  ): this {
    const list = this.#listeners.get(event) ?? [];
    list.push(listener as unknown as Listener);
    this.#listeners.set(event, list);
    return this;
  }

  /** Test hook: the relay reports an event (e.g. a media timeout). */
  emit<K extends keyof MediaRelaySessionEvents>(
    event: K,
    ...args: MediaRelaySessionEvents[K]
  ): void {
    for (const l of this.#listeners.get(event) ?? []) l(...args);
  }
}

export class FakeMediaRelay implements MediaRelay {
  readonly address: string;
  readonly setRemoteCalls: SetRemoteCall[] = [];
  readonly sessions: FakeRelaySession[] = [];
  /** Sessions allowed before createSession rejects (ports exhausted). */
  capacity = Number.POSITIVE_INFINITY;
  #nextPort = 40000;
  #nextId = 1;
  #open = new Set<FakeRelaySession>();

  constructor(address = '203.0.113.10') {
    this.address = address;
  }

  /** Sessions created and not closed: a test asserts zero after every scenario. */
  get openSessions(): number {
    return this.#open.size;
  }

  /** Sessions ever created. */
  get createdSessions(): number {
    return this.sessions.length;
  }

  async createSession(): Promise<MediaRelaySession> {
    await Promise.resolve();
    if (this.#open.size >= this.capacity) throw new Error('RTP_ERR_PORTS_EXHAUSTED');
    const port = (): RelayLocal => {
      const rtpPort = this.#nextPort;
      this.#nextPort += 2;
      return { address: this.address, rtpPort, rtcpPort: rtpPort + 1 };
    };
    const session = new FakeRelaySession(this.#nextId++, { a: port(), b: port() }, this);
    this.sessions.push(session);
    this.#open.add(session);
    return session;
  }

  released(session: FakeRelaySession): void {
    this.#open.delete(session);
  }

  /** setRemote calls of one side, in order. */
  remotesOf(side: RelaySide): RelayRemote[] {
    return this.setRemoteCalls.filter((c) => c.side === side).map((c) => c.remote);
  }
}
