/**
 * RFC 3262 on the UAS side of one INVITE: reliable provisional responses with RSeq, retransmitted
 * at T1, 2·T1, … until their PRACK comes; one outstanding at a time (later ones wait); the INVITE
 * is failed with 5xx when a PRACK never comes (64·T1).
 */
import { randomInt } from 'node:crypto';
import type { SipResponse } from '../message/sip-message.js';
import type { TimerConfig } from '../transaction/timer-config.js';
import type { Clock, TimerHandle } from '../util/clock.js';

/** True when the request says it supports or requires reliable provisionals (RFC 3262 §3). */
export function wants100rel(values: readonly string[]): boolean {
  return values.some((t) => t.trim().toLowerCase() === '100rel');
}

/** RAck: `response-num CSeq-num method` (RFC 3262 §7.2); undefined when malformed. */
export function parseRAck(
  value: string | undefined,
): { rseq: number; cseq: number; method: string } | undefined {
  const m = /^\s*(\d{1,10})\s+(\d{1,10})\s+([A-Za-z]+)\s*$/.exec(value ?? '');
  if (m === null) return undefined;
  return { rseq: Number(m[1]), cseq: Number(m[2]), method: (m[3] ?? '').toUpperCase() };
}

export interface ReliableSender {
  /** Passes the response to the INVITE server transaction (first copy and retransmissions). */
  send(response: SipResponse): void;
  /** No PRACK within 64·T1: the INVITE should be failed with 5xx. */
  timedOut(): void;
}

interface Outstanding {
  response: SipResponse;
  rseq: number;
  interval: number;
  retransmit: TimerHandle | undefined;
  giveUp: TimerHandle | undefined;
}

export class ReliableProvisionals {
  readonly #clock: Clock;
  readonly #timers: TimerConfig;
  readonly #sender: ReliableSender;
  readonly #queue: SipResponse[] = [];
  /** RFC 3262 §3: the first RSeq is chosen between 1 and 2**31 - 1. */
  #nextRSeq = randomInt(1, 2 ** 31 - 2 ** 20);
  #outstanding: Outstanding | undefined;
  #stopped = false;
  #unackedWithBody = false;

  constructor(clock: Clock, timers: TimerConfig, sender: ReliableSender) {
    this.#clock = clock;
    this.#timers = timers;
    this.#sender = sender;
  }

  /** A reliable provisional with a session description still waits for its PRACK. */
  get unacknowledgedWithBody(): boolean {
    return this.#unackedWithBody;
  }

  get pending(): boolean {
    return this.#outstanding !== undefined || this.#queue.length > 0;
  }

  /** Adds Require: 100rel and RSeq and sends it now, or after the outstanding one is PRACKed. */
  send(response: SipResponse): void {
    if (this.#stopped) return;
    response.headers.set('Require', '100rel');
    if (response.body.length > 0) this.#unackedWithBody = true;
    // RFC 3262 §3: no second reliable provisional until the first is acknowledged.
    if (this.#outstanding !== undefined) this.#queue.push(response);
    else this.#start(response);
  }

  /**
   * A PRACK's RAck (RFC 3262 §3): the response it acknowledges, or undefined when it matches no
   * unacknowledged one. The next queued response goes out after the caller answered the PRACK
   * (call `next()`).
   */
  prack(rseq: number, cseq: number, method: string, inviteSeq: number): SipResponse | undefined {
    const o = this.#outstanding;
    if (o === undefined || o.rseq !== rseq || cseq !== inviteSeq || method !== 'INVITE')
      return undefined;
    this.#clear(o);
    this.#outstanding = undefined;
    if (this.#queue.length === 0) this.#unackedWithBody = false;
    return o.response;
  }

  /** Sends the next queued reliable provisional, if any. */
  next(): void {
    if (this.#outstanding !== undefined || this.#stopped) return;
    const next = this.#queue.shift();
    if (next !== undefined) this.#start(next);
  }

  /** The INVITE got its final response: nothing more is retransmitted. */
  stop(): void {
    this.#stopped = true;
    if (this.#outstanding !== undefined) this.#clear(this.#outstanding);
    this.#outstanding = undefined;
    this.#queue.length = 0;
  }

  #start(response: SipResponse): void {
    const rseq = this.#nextRSeq++;
    response.headers.set('RSeq', String(rseq));
    const o: Outstanding = {
      response,
      rseq,
      interval: this.#timers.T1,
      retransmit: undefined,
      giveUp: undefined,
    };
    this.#outstanding = o;
    this.#sender.send(response);
    o.retransmit = this.#clock.setTimeout(() => this.#retransmit(o), o.interval);
    // RFC 3262 §3: no PRACK for 64*T1 → the original request is rejected with a 5xx.
    o.giveUp = this.#clock.setTimeout(() => this.#giveUp(o), 64 * this.#timers.T1);
  }

  #retransmit(o: Outstanding): void {
    if (this.#outstanding !== o) return;
    this.#sender.send(o.response);
    // RFC 3262 §3: the interval starts at T1 and doubles with each retransmission.
    o.interval *= 2;
    o.retransmit = this.#clock.setTimeout(() => this.#retransmit(o), o.interval);
  }

  #giveUp(o: Outstanding): void {
    if (this.#outstanding !== o) return;
    this.stop();
    this.#sender.timedOut();
  }

  #clear(o: Outstanding): void {
    this.#clock.clearTimeout(o.retransmit);
    this.#clock.clearTimeout(o.giveUp);
  }
}
