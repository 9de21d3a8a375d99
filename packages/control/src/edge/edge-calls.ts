/**
 * Proxied calls the edge tracks per Call-ID, from routing to their end: admission to release,
 * the relay session to close, and the CDR disposition the brain records (DESIGN.md "Life of a
 * call", step 1).
 */
import type { Brain, CallEnd } from '../brain/brain.js';
import type { EdgeLogger } from './edge-options.js';

/** The part of a relay session a call needs (RelaySession satisfies it). */
export interface AnchoredMedia {
  readonly a: { address: string; rtpPort: number; rtcpPort: number | undefined };
  readonly b: { address: string; rtpPort: number; rtcpPort: number | undefined };
  readonly closed: boolean;
  setRemote(
    side: 'a' | 'b',
    remote: { address: string; rtpPort: number; rtcpPort?: number; rtcpMux?: boolean },
  ): void;
  close(): void;
}

export interface EdgeCall {
  readonly callId: string;
  /** From tag of the caller's INVITE: tells which side a message goes to. */
  readonly callerTag: string | undefined;
  readonly accountId: string | null;
  readonly startedAt: number;
  answeredAt?: number;
  media?: AnchoredMedia;
}

export type CallDisposition = CallEnd['disposition'];

/** RFC 3261 §21: the CDR disposition of a final response that ended a call attempt. */
export function dispositionOf(status: number): CallDisposition {
  if (status < 300) return 'answered';
  if (status === 486 || status === 600 || status === 603) return 'busy';
  if (status === 408 || status === 480 || status === 487) return 'no_answer';
  return 'failed';
}

/** Hangup causes of a call ended by a BYE: its final response arrived, or it never did. */
export const BYE_CAUSES = Object.freeze({ answered: 'bye', timeout: 'bye-timeout' } as const);

/** RFC 3261 §17.1.2.2: Timer F = 64*T1, how long a non-INVITE client transaction waits. */
export const BYE_TIMEOUT_MS = 64 * 500;

export interface EdgeCallsOptions {
  brain: Brain;
  logger: EdgeLogger;
  now?: () => number;
  /** How long a forwarded BYE may go unanswered before the call ends anyway (default Timer F). */
  byeTimeoutMs?: number;
  /** Timers for the BYE wait (tests inject a manual clock); default setTimeout, unref'd. */
  setTimer?: (fn: () => void, ms: number) => { cancel(): void };
}

function defaultTimer(fn: () => void, ms: number): { cancel(): void } {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
}

export class EdgeCalls {
  readonly #calls = new Map<string, EdgeCall>();
  /** Calls whose BYE passed and whose BYE final response is awaited, with the fallback timer. */
  readonly #byes = new Map<string, { cancel(): void }>();
  readonly #brain: Brain;
  readonly #log: EdgeLogger;
  readonly #now: () => number;
  readonly #byeTimeoutMs: number;
  readonly #setTimer: (fn: () => void, ms: number) => { cancel(): void };

  constructor(options: EdgeCallsOptions) {
    this.#brain = options.brain;
    this.#log = options.logger;
    this.#now = options.now ?? Date.now;
    this.#byeTimeoutMs = options.byeTimeoutMs ?? BYE_TIMEOUT_MS;
    this.#setTimer = options.setTimer ?? defaultTimer;
  }

  get size(): number {
    return this.#calls.size;
  }

  get(callId: string): EdgeCall | undefined {
    return this.#calls.get(callId);
  }

  begin(callId: string, callerTag: string | undefined, accountId: string | null): EdgeCall {
    const call: EdgeCall = { callId, callerTag, accountId, startedAt: this.#now() };
    this.#calls.set(callId, call);
    return call;
  }

  /** A 2xx reached the caller: the call is up (the admission reservation is refreshed). */
  answered(callId: string): void {
    const call = this.#calls.get(callId);
    if (call === undefined || call.answeredAt !== undefined) return;
    call.answeredAt = this.#now();
    this.#brain
      .presenceEvent({ type: 'dialog', callId, state: 'confirmed' })
      .catch((err: unknown) => this.#log.warn({ err, callId }, 'dialog event failed'));
  }

  /**
   * A BYE of the call was forwarded: the call stays up until the BYE's final response
   * (`byeAnswered`) or, failing that, for the BYE timeout. Returns whether the call is tracked.
   */
  byeForwarded(callId: string): boolean {
    if (!this.#calls.has(callId)) return false;
    if (this.#byes.has(callId)) return true;
    const timer = this.#setTimer(() => {
      // RFC 3261 §15.1.1: no response to the BYE at all still terminates the session.
      if (this.#byes.has(callId)) void this.#finish(callId, 'answered', BYE_CAUSES.timeout);
    }, this.#byeTimeoutMs);
    this.#byes.set(callId, timer);
    return true;
  }

  /** Whether a forwarded BYE of the call awaits its final response. */
  byePending(callId: string): boolean {
    return this.#byes.has(callId);
  }

  /**
   * The final response to the call's BYE went out: the call ends. RFC 3261 §15.1.1: any final
   * response (a 481 or 408 too) terminates the session; a 408 means the BYE timed out.
   */
  byeAnswered(callId: string, status: number): Promise<boolean> {
    if (status < 200 || !this.#byes.has(callId)) return Promise.resolve(false);
    return this.#finish(
      callId,
      'answered',
      status === 408 ? BYE_CAUSES.timeout : BYE_CAUSES.answered,
    );
  }

  /**
   * Ends a call once: closes its relay session, releases admission and completes the CDR.
   * A BYE passing (cause `bye`) does not end the call yet: it waits for the BYE's final response
   * (`byeForwarded`), so a BYE that is never answered ends as `bye-timeout`.
   */
  end(callId: string, disposition: CallDisposition, hangupCause: string): Promise<boolean> {
    if (hangupCause === BYE_CAUSES.answered && disposition === 'answered')
      return Promise.resolve(this.byeForwarded(callId));
    return this.#finish(callId, disposition, hangupCause);
  }

  /** Counts a call that ends (subclasses: metrics); called once per call, before the release. */
  protected ending(_call: EdgeCall, _disposition: CallDisposition): void {}

  async #finish(
    callId: string,
    disposition: CallDisposition,
    hangupCause: string,
  ): Promise<boolean> {
    const call = this.#calls.get(callId);
    if (call === undefined) return false;
    this.#calls.delete(callId);
    this.#byes.get(callId)?.cancel();
    this.#byes.delete(callId);
    call.media?.close();
    const endedAt = this.#now();
    const end: CallEnd = {
      disposition: call.answeredAt === undefined ? disposition : 'answered',
      endedAt,
      hangupCause,
    };
    if (call.answeredAt !== undefined) end.answeredAt = call.answeredAt;
    this.ending(call, end.disposition);
    this.#log.info(
      {
        callId,
        disposition: end.disposition,
        hangupCause,
        durationMs: endedAt - call.startedAt,
        talkMs: call.answeredAt === undefined ? 0 : endedAt - call.answeredAt,
        media: call.media === undefined ? 'direct' : 'relay',
      },
      'call ended',
    );
    try {
      await this.#brain.release({ callId, end });
    } catch (err) {
      this.#log.warn({ err, callId }, 'release failed');
    }
    return true;
  }

  /** Stop: every call still tracked is ended (relay sessions closed, admission released). */
  async endAll(hangupCause: string): Promise<void> {
    await Promise.all([...this.#calls.keys()].map((id) => this.#finish(id, 'failed', hangupCause)));
  }
}
