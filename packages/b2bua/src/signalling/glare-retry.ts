/**
 * RFC 3261 §14.1: after a 491 to a re-INVITE (or UPDATE, RFC 3311 §5.2) the UAC waits before
 * trying again: 2.1–4 s in 10 ms steps when it owns the Call-ID, 0–2 s otherwise.
 */
import type { Clock } from '@switchboard/sip-stack';

/** The wait, in ms, before retrying after 491. `random` returns [0, 1). */
export function glareDelay(ownsCallId: boolean, random: () => number = Math.random): number {
  // RFC 3261 §14.1: owner 2.1..4 s, otherwise 0..2 s, both in units of 10 ms.
  const steps = ownsCallId ? 190 : 200;
  const base = ownsCallId ? 2100 : 0;
  return base + Math.floor(random() * (steps + 1)) * 10;
}

export interface GlareRetryOptions {
  clock: Clock;
  ownsCallId: boolean;
  /** Attempts in all, the first included (default 3). */
  attempts?: number;
  random?: () => number;
  /** Stops waiting (call ended): the last response is returned. */
  cancelled?: () => boolean;
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/** Sends, and sends again after each 491 at the §14.1 delay; resolves with the last response. */
export async function withGlareRetry<R extends { status: number }>(
  send: () => Promise<R>,
  options: GlareRetryOptions,
): Promise<R> {
  const attempts = options.attempts ?? 3;
  let response = await send();
  for (let i = 1; i < attempts && response.status === 491; i++) {
    await sleep(options.clock, glareDelay(options.ownsCallId, options.random));
    if (options.cancelled?.() === true) break;
    response = await send();
  }
  return response;
}
