/**
 * RFC 4028 session timers on one leg: negotiation of the interval and the refresher, refreshes
 * at half the interval when we refresh, and a BYE before expiry when the peer should have
 * refreshed and did not.
 */
import type {
  Clock,
  HeaderValues,
  SipRequest,
  SipResponse,
  TimerHandle,
} from '@switchboard/sip-stack';
import type { SessionTimerOptions } from '../call/call-types.js';

/** RFC 4028 §4: Min-SE is never below 90 seconds. */
export const MIN_SE_FLOOR = 90;
export const DEFAULT_INTERVAL = 1800;

export type Refresher = 'local' | 'remote';

export interface TimerSettings {
  /** Seconds. */
  interval: number;
  refresher: Refresher;
}

export interface SessionExpires {
  interval: number;
  refresher: 'uac' | 'uas' | undefined;
}

/** Session-Expires (compact 'x'): `1800;refresher=uac`; undefined when absent or malformed. */
export function parseSessionExpires(message: SipRequest | SipResponse): SessionExpires | undefined {
  const value = message.headers.get('Session-Expires');
  if (value === undefined) return undefined;
  const [delta, ...params] = value.split(';').map((p) => p.trim());
  if (delta === undefined || !/^\d{1,9}$/.test(delta)) return undefined;
  let refresher: 'uac' | 'uas' | undefined;
  for (const p of params) {
    const [k, v] = p.split('=').map((x) => x.trim().toLowerCase());
    if (k === 'refresher' && (v === 'uac' || v === 'uas')) refresher = v;
  }
  return { interval: Number(delta), refresher };
}

function minSEOf(message: SipRequest | SipResponse): number | undefined {
  const v = message.headers.get('Min-SE')?.split(';')[0]?.trim();
  return v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : undefined;
}

function supportsTimer(message: SipRequest | SipResponse): boolean {
  return [...message.headers.values('Supported'), ...message.headers.values('Require')].some(
    (t) => t.trim().toLowerCase() === 'timer',
  );
}

function resolved(options: SessionTimerOptions): { interval: number; minSE: number } {
  const minSE = Math.max(MIN_SE_FLOOR, options.minSE ?? MIN_SE_FLOOR);
  return { interval: Math.max(minSE, options.interval ?? DEFAULT_INTERVAL), minSE };
}

/** Headers of an INVITE we send to start a leg with session timers (RFC 4028 §7.1). */
export function uacOfferHeaders(options: SessionTimerOptions): HeaderValues {
  const { interval, minSE } = resolved(options);
  return { Supported: 'timer', 'Session-Expires': String(interval), 'Min-SE': String(minSE) };
}

/** RFC 4028 §7.2: the 2xx says who refreshes; no Session-Expires there means no timer. */
export function uacSettings(response: SipResponse): TimerSettings | undefined {
  const se = parseSessionExpires(response);
  if (se === undefined) return undefined;
  return { interval: se.interval, refresher: se.refresher === 'uas' ? 'remote' : 'local' };
}

/** Headers for the retry after 422 (RFC 4028 §7.4): the interval raised to the callee's Min-SE. */
export function retryAfter422(
  response: SipResponse,
  headers: HeaderValues,
): HeaderValues | undefined {
  const min = minSEOf(response);
  if (min === undefined) return undefined;
  return { ...headers, 'Session-Expires': String(min), 'Min-SE': String(min) };
}

export type UasNegotiation =
  | { ok: true; settings: TimerSettings | undefined; headers: HeaderValues }
  | { ok: false; status: 422; headers: HeaderValues };

/** RFC 4028 §8.1: the caller's Session-Expires checked against our Min-SE; who refreshes. */
export function uasNegotiate(request: SipRequest, options: SessionTimerOptions): UasNegotiation {
  const { interval: wanted, minSE } = resolved(options);
  const se = parseSessionExpires(request);
  const supported = supportsTimer(request);
  if (se === undefined) {
    if (!supported) return { ok: true, settings: undefined, headers: {} };
    // RFC 4028 §9: we may add a timer; the caller supports it, so it refreshes.
    const settings: TimerSettings = { interval: wanted, refresher: 'remote' };
    return { ok: true, settings, headers: answerHeaders(settings) };
  }
  // RFC 4028 §8.1: too small an interval → 422 with our Min-SE.
  if (se.interval < minSE) return { ok: false, status: 422, headers: { 'Min-SE': String(minSE) } };
  const interval = Math.min(se.interval, Math.max(wanted, minSEOf(request) ?? 0));
  let refresher: Refresher;
  if (se.refresher === 'uac') refresher = 'remote';
  else if (se.refresher === 'uas') refresher = 'local';
  else refresher = supported ? 'remote' : 'local';
  const settings: TimerSettings = { interval, refresher };
  return { ok: true, settings, headers: answerHeaders(settings) };
}

/** Session-Expires for a 2xx we send to a request of the peer (the peer is the UAC). */
export function answerHeaders(settings: TimerSettings): HeaderValues {
  const refresher = settings.refresher === 'remote' ? 'uac' : 'uas';
  return {
    'Session-Expires': `${settings.interval};refresher=${refresher}`,
    ...(refresher === 'uac' ? { Require: 'timer' } : {}),
  };
}

/** Session-Expires for a refresh (re-INVITE/UPDATE) we send (we are the UAC). */
export function refreshHeaders(settings: TimerSettings): HeaderValues {
  const refresher = settings.refresher === 'local' ? 'uac' : 'uas';
  return { Supported: 'timer', 'Session-Expires': `${settings.interval};refresher=${refresher}` };
}

export interface SessionTimerHandler {
  /** Time for us to refresh. */
  refresh(): void;
  /** The peer did not refresh in time: end the session. */
  expired(): void;
}

/** The running timer of one leg. */
export class SessionTimer {
  readonly #clock: Clock;
  readonly #handler: SessionTimerHandler;
  #settings: TimerSettings;
  #handle: TimerHandle | undefined;
  #stopped = false;

  constructor(clock: Clock, settings: TimerSettings, handler: SessionTimerHandler) {
    this.#clock = clock;
    this.#settings = settings;
    this.#handler = handler;
  }

  get settings(): TimerSettings {
    return this.#settings;
  }

  /** (Re)starts the interval: after the session was established or refreshed. */
  refreshed(settings: TimerSettings = this.#settings): void {
    if (this.#stopped) return;
    this.#settings = settings;
    this.#clock.clearTimeout(this.#handle);
    const ms = settings.interval * 1000;
    if (settings.refresher === 'local') {
      // RFC 4028 §10: the refresher sends a refresh at half the session interval.
      this.#handle = this.#clock.setTimeout(() => this.#handler.refresh(), ms / 2);
    } else {
      // RFC 4028 §10: BYE before expiry, min(32 s, interval/3) ahead of it.
      const ahead = Math.min(32_000, ms / 3);
      this.#handle = this.#clock.setTimeout(() => this.#handler.expired(), ms - ahead);
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
  }
}
