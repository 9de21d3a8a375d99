/**
 * The life of a call as one machine: a table of allowed transitions and one `transition` that
 * throws on an illegal move (a bug, never input).
 *
 *   calling ──► ringing ──► early ──► answered ──► ended
 *      │           │          │
 *      └───────────┴──────────┴──────────────────► ended
 */
import { B2buaError, B2buaErrorCode } from '../b2bua-error.js';

export const CallState = Object.freeze({
  /** The caller's INVITE is being routed; INVITEs to the callee(s) are out. */
  Calling: 'calling',
  /** A callee rings (180/181/182 relayed). */
  Ringing: 'ringing',
  /** Early media: a callee answered the offer in a provisional response (183 with SDP). */
  Early: 'early',
  /** Both legs are confirmed dialogs. */
  Answered: 'answered',
  Ended: 'ended',
} as const);
export type CallState = (typeof CallState)[keyof typeof CallState];

const TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = Object.freeze({
  calling: ['ringing', 'early', 'answered', 'ended'],
  ringing: ['early', 'answered', 'ended'],
  early: ['answered', 'ended'],
  answered: ['ended'],
  ended: [],
});

export function canTransition(from: CallState, to: CallState): boolean {
  return TRANSITIONS[from].includes(to);
}

export class CallStateMachine {
  #state: CallState = CallState.Calling;
  readonly #onChange: (state: CallState, previous: CallState) => void;

  constructor(onChange: (state: CallState, previous: CallState) => void) {
    this.#onChange = onChange;
  }

  get state(): CallState {
    return this.#state;
  }

  /** Moves to `next`; the same state is a no-op; an illegal move throws B2BUA_ERR_STATE. */
  transition(next: CallState): void {
    if (next === this.#state) return;
    if (!canTransition(this.#state, next)) {
      throw new B2buaError(
        B2buaErrorCode.State,
        `call: illegal transition ${this.#state} -> ${next}`,
      );
    }
    const previous = this.#state;
    this.#state = next;
    this.#onChange(next, previous);
  }

  /** Moves forward only when the move is allowed (ringing after early media is ignored). */
  advance(next: CallState): boolean {
    if (next === this.#state || !canTransition(this.#state, next)) return false;
    this.transition(next);
    return true;
  }
}
