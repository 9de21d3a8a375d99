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

export interface EdgeCallsOptions {
  brain: Brain;
  logger: EdgeLogger;
  now?: () => number;
}

export class EdgeCalls {
  readonly #calls = new Map<string, EdgeCall>();
  readonly #brain: Brain;
  readonly #log: EdgeLogger;
  readonly #now: () => number;

  constructor(options: EdgeCallsOptions) {
    this.#brain = options.brain;
    this.#log = options.logger;
    this.#now = options.now ?? Date.now;
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

  /** Ends a call once: closes its relay session, releases admission and completes the CDR. */
  async end(callId: string, disposition: CallDisposition, hangupCause: string): Promise<boolean> {
    const call = this.#calls.get(callId);
    if (call === undefined) return false;
    this.#calls.delete(callId);
    call.media?.close();
    const endedAt = this.#now();
    const end: CallEnd = {
      disposition: call.answeredAt === undefined ? disposition : 'answered',
      endedAt,
      hangupCause,
    };
    if (call.answeredAt !== undefined) end.answeredAt = call.answeredAt;
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
    await Promise.all([...this.#calls.keys()].map((id) => this.end(id, 'failed', hangupCause)));
  }
}
