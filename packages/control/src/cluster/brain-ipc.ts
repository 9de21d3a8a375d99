/**
 * The brain for SIP workers. Per-account live state (admission counters, presence, CDRs) must be
 * single, so it stays in the primary: route, admit, release and events cross the cluster IPC
 * channel. `authenticate` is the hot call of REGISTER with digest and only reads configuration,
 * so a worker answers it from its own read-only, cached view of the same SQLite store.
 */
import type {
  AdmitDecision,
  AdmitRequest,
  AuthDecision,
  AuthRequest,
  Brain,
  CacStatus,
  PresenceAck,
  PresenceEvent,
  ReleaseRequest,
  ReleaseResult,
  RouteRequest,
} from '../brain/brain.js';
import type { RouteDecision } from '../brain/directive.js';
import type { SecretStore } from '../store/secret-store.js';

/** The part of `process` / `cluster.Worker` used for IPC. */
export interface IpcChannel {
  send(message: unknown, callback?: (err: Error | null) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  /** False once the other end is gone (cluster.Worker / process). */
  readonly connected?: boolean;
}

/** A reply to a worker that has exited is dropped: with a callback, send reports, never throws. */
function reply(channel: IpcChannel, message: BrainReply): void {
  if (channel.connected === false) return;
  try {
    channel.send(message, () => undefined);
  } catch {
    // The channel closed between the check and the send.
  }
}

type BrainMethod =
  | 'route'
  | 'authenticate'
  | 'presenceEvent'
  | 'admit'
  | 'release'
  | 'cacStatus'
  | 'cacReset'
  | 'secret';
const BRAIN_METHODS: readonly BrainMethod[] = [
  'secret',
  'route',
  'authenticate',
  'presenceEvent',
  'admit',
  'release',
  'cacStatus',
  'cacReset',
];

interface BrainCall {
  t: 'brain';
  id: number;
  method: BrainMethod;
  arg: unknown;
}
interface BrainReply {
  t: 'brain-res';
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Primary side: answers brain calls a worker makes. */
export function serveBrain(
  channel: IpcChannel,
  brain: Brain,
  secrets?: Pick<SecretStore, 'get'>,
): void {
  channel.on('message', (m) => {
    if (!isRecord(m) || m['t'] !== 'brain') return;
    const call = m as unknown as BrainCall;
    if (!BRAIN_METHODS.includes(call.method)) return;
    const method = call.method;
    const invoke = (arg: unknown): Promise<unknown> =>
      method === 'secret'
        ? // trunk credentials stay encrypted in the primary's store; a worker asks per use
          typeof arg === 'string' && secrets !== undefined
          ? secrets.get(arg)
          : Promise.resolve(undefined)
        : (brain[method] as (this: Brain, a: unknown) => Promise<unknown>).call(brain, arg);
    invoke(call.arg).then(
      (value) => reply(channel, { t: 'brain-res', id: call.id, ok: true, value }),
      (err: unknown) =>
        reply(channel, { t: 'brain-res', id: call.id, ok: false, error: String(err) }),
    );
  });
}

export interface ClusterBrainOptions {
  channel: IpcChannel;
  /** Answers authenticate locally (a read of the store); absent: asked of the primary. */
  authenticate?: (req: AuthRequest) => Promise<AuthDecision>;
}

/** Worker side: the Brain interface over the cluster IPC channel. */
export class ClusterBrain implements Brain {
  readonly #channel: IpcChannel;
  readonly #auth: ((req: AuthRequest) => Promise<AuthDecision>) | undefined;
  readonly #pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  #nextId = 1;

  constructor(options: ClusterBrainOptions) {
    this.#channel = options.channel;
    this.#auth = options.authenticate;
    this.#channel.on('message', (m) => {
      if (!isRecord(m) || m['t'] !== 'brain-res') return;
      const reply = m as unknown as BrainReply;
      const p = this.#pending.get(reply.id);
      if (p === undefined) return;
      this.#pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.value);
      else p.reject(new Error(reply.error ?? 'brain call failed'));
    });
  }

  authenticate(req: AuthRequest): Promise<AuthDecision> {
    return this.#auth !== undefined ? this.#auth(req) : this.#call('authenticate', req);
  }
  route(req: RouteRequest): Promise<RouteDecision> {
    return this.#call('route', req);
  }
  presenceEvent(event: PresenceEvent): Promise<PresenceAck> {
    return this.#call('presenceEvent', event);
  }
  admit(req: AdmitRequest): Promise<AdmitDecision> {
    return this.#call('admit', req);
  }
  release(req: ReleaseRequest): Promise<ReleaseResult> {
    return this.#call('release', req);
  }
  cacStatus(accountId?: string): Promise<CacStatus> {
    return this.#call('cacStatus', accountId);
  }
  cacReset(accountId?: string): Promise<{ ok: true; cleared: number }> {
    return this.#call('cacReset', accountId);
  }

  /** Trunk secrets, read by the primary from its encrypted store. */
  readonly secrets: Pick<SecretStore, 'get'> = {
    get: (ref) => this.#call<string | undefined>('secret', ref),
  };

  /** Fails every call still waiting (the primary went away). */
  close(): void {
    for (const p of this.#pending.values()) p.reject(new Error('cluster brain closed'));
    this.#pending.clear();
  }

  #call<T>(method: BrainMethod, arg: unknown): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#channel.send({ t: 'brain', id, method, arg } satisfies BrainCall);
    });
  }
}
