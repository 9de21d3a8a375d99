/**
 * The Redis location service (ioredis): every change is one Lua script (atomic: §10.3 step 7's
 * all-or-nothing), expiry is a sorted set by expiry time swept by one timer on the injected
 * clock, keys are namespaced. Several nodes can share it; expiry times are wall-clock ms.
 */
import { TypedEmitter, type Clock, type TimerHandle } from '@switchboard/sip-stack';
import { Redis } from 'ioredis';
import { wallClock } from '../util/wall-clock.js';
import { compareBindings, type Binding } from './binding.js';
import type {
  ApplyResult,
  BindingChange,
  LocationErrorCode,
  LocationEvents,
  LocationService,
} from './location-service.js';
import { APPLY_SCRIPT, EXPIRE_SCRIPT, REMOVE_FLOW_SCRIPT, REMOVE_SCRIPT } from './redis-scripts.js';

export interface RedisLocationServiceOptions {
  /** A connected ioredis client (left open by close()) or a redis:// URL (closed by close()). */
  redis: Redis | string;
  /** Key prefix (default `sb:loc:`). */
  namespace?: string;
  /** Wall-clock time (default Date.now); the same clock on every node. */
  clock?: Clock;
  /** How often expired bindings are swept (default 1000 ms; 0 = only when expire() is called). */
  sweepIntervalMs?: number;
  /** Bindings removed per sweep script call (default 500). */
  sweepBatch?: number;
}

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

interface ApplyReply {
  err?: LocationErrorCode;
  key?: string;
  added?: string[] | Record<string, never>;
  refreshed?: [string, string][] | Record<string, never>;
  removed?: string[] | Record<string, never>;
  all?: string[] | Record<string, never>;
}

/** cjson encodes an empty Lua table as {}. */
function list<T>(v: T[] | Record<string, never> | undefined): T[] {
  return Array.isArray(v) ? v : [];
}

/** JSON with `registeredAt` last: the apply script keeps the first registration time by editing it. */
export function serializeBinding(b: Binding): string {
  const { registeredAt, ...rest } = b;
  return JSON.stringify({ ...rest, registeredAt: Math.floor(registeredAt) });
}

function parseBinding(raw: string): Binding {
  return JSON.parse(raw) as Binding;
}

export class RedisLocationService extends TypedEmitter<LocationEvents> implements LocationService {
  readonly #redis: Redis;
  readonly #owned: boolean;
  readonly #ns: string;
  readonly #clock: Clock;
  readonly #sweepIntervalMs: number;
  readonly #sweepBatch: number;
  readonly #scripts: Record<'apply' | 'expire' | 'removeFlow' | 'remove', ScriptFn>;
  #timer: TimerHandle | undefined;
  #sweeping = false;
  #closed = false;

  constructor(options: RedisLocationServiceOptions) {
    super();
    this.#owned = typeof options.redis === 'string';
    this.#redis =
      typeof options.redis === 'string'
        ? new Redis(options.redis, { lazyConnect: false, maxRetriesPerRequest: 2 })
        : options.redis;
    this.#ns = options.namespace ?? 'sb:loc:';
    this.#clock = options.clock ?? wallClock;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 1000;
    this.#sweepBatch = options.sweepBatch ?? 500;
    this.#scripts = {
      apply: this.#define('sbLocApply', 2, APPLY_SCRIPT),
      expire: this.#define('sbLocExpire', 1, EXPIRE_SCRIPT),
      removeFlow: this.#define('sbLocRemoveFlow', 2, REMOVE_FLOW_SCRIPT),
      remove: this.#define('sbLocRemove', 2, REMOVE_SCRIPT),
    };
    this.#schedule();
  }

  async lookup(aor: string): Promise<Binding[]> {
    const values = await this.#redis.hvals(this.#aorKey(aor));
    const now = this.#clock.now();
    return values
      .map(parseBinding)
      .filter((b) => b.expiresAt > now)
      .sort(compareBindings);
  }

  async apply(change: BindingChange): Promise<ApplyResult> {
    const args: (string | number)[] = [
      this.#ns,
      change.aor,
      change.callId,
      change.cseq,
      this.#clock.now(),
      change.removeAll === true ? 1 : 0,
      change.maxBindings ?? 0,
      change.ops.length,
    ];
    for (const op of change.ops) {
      if (op.kind === 'remove') args.push(op.key, '', 0, '');
      else {
        const b = op.binding;
        args.push(b.key, serializeBinding(b), b.expiresAt, b.flowKey ?? '');
      }
    }
    const raw = (await this.#scripts.apply(
      this.#aorKey(change.aor),
      this.#expKey(),
      ...args,
    )) as string;
    const reply = JSON.parse(raw) as ApplyReply;
    if (reply.err !== undefined)
      return { ok: false, code: reply.err, ...(reply.key === undefined ? {} : { key: reply.key }) };
    const added = list(reply.added).map(parseBinding);
    const refreshed = list(reply.refreshed).map(
      ([b, old]) => [parseBinding(b), parseBinding(old)] as const,
    );
    const removed = list(reply.removed).map(parseBinding);
    const now = this.#clock.now();
    const bindings = list(reply.all)
      .map(parseBinding)
      .filter((b) => b.expiresAt > now)
      .sort(compareBindings);
    for (const b of removed) this.emit('removed', b, 'unregistered');
    for (const b of added) this.emit('added', b);
    for (const [b, prev] of refreshed) this.emit('refreshed', b, prev);
    return { ok: true, bindings, added, refreshed: refreshed.map(([b]) => b), removed };
  }

  async remove(aor: string, key: string): Promise<Binding | undefined> {
    const raw = (await this.#scripts.remove(
      this.#aorKey(aor),
      this.#expKey(),
      this.#ns,
      aor,
      key,
    )) as string | null;
    if (raw === null) return undefined;
    const b = parseBinding(raw);
    this.emit('removed', b, 'removed');
    return b;
  }

  async removeByFlow(flowKey: string): Promise<Binding[]> {
    const flowSet = `${this.#ns}flow:${flowKey}`;
    const raws = (await this.#scripts.removeFlow(
      flowSet,
      this.#expKey(),
      this.#ns,
      flowKey,
    )) as string[];
    const gone = raws.map(parseBinding);
    for (const b of gone) this.emit('removed', b, 'flow-closed');
    return gone;
  }

  async expire(): Promise<Binding[]> {
    const gone: Binding[] = [];
    for (let round = 0; round < 1000; round++) {
      const raws = (await this.#scripts.expire(
        this.#expKey(),
        this.#ns,
        this.#clock.now(),
        this.#sweepBatch,
      )) as string[];
      for (const raw of raws) gone.push(parseBinding(raw));
      if (raws.length < this.#sweepBatch) break;
    }
    for (const b of gone) this.emit('expired', b);
    return gone;
  }

  async *bindings(): AsyncIterable<Binding> {
    const page = 500;
    const now = this.#clock.now();
    for (let start = 0; ; start += page) {
      const members = await this.#redis.zrangebyscore(
        this.#expKey(),
        `(${now}`,
        '+inf',
        'LIMIT',
        start,
        page,
      );
      if (members.length === 0) return;
      const pipeline = this.#redis.pipeline();
      for (const m of members) {
        const sep = m.indexOf('\n');
        pipeline.hget(this.#aorKey(m.slice(0, sep)), m.slice(sep + 1));
      }
      const replies = (await pipeline.exec()) ?? [];
      for (const [err, raw] of replies) {
        if (err === null && typeof raw === 'string') yield parseBinding(raw);
      }
      if (members.length < page) return;
    }
  }

  count(): Promise<number> {
    return this.#redis.zcount(this.#expKey(), `(${this.#clock.now()}`, '+inf');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#owned) await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #aorKey(aor: string): string {
    return `${this.#ns}aor:${aor}`;
  }

  #expKey(): string {
    return `${this.#ns}exp`;
  }

  #define(name: string, numberOfKeys: number, lua: string): ScriptFn {
    this.#redis.defineCommand(name, { numberOfKeys, lua });
    const fn = (this.#redis as unknown as Record<string, ScriptFn>)[name] as ScriptFn;
    return fn.bind(this.#redis);
  }

  #schedule(): void {
    if (this.#closed || this.#sweepIntervalMs <= 0) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#sweep();
    }, this.#sweepIntervalMs);
  }

  async #sweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      await this.expire();
    } catch {
      // Redis unreachable: the next sweep retries; lookups filter expired bindings meanwhile.
    } finally {
      this.#sweeping = false;
      this.#schedule();
    }
  }
}
