/**
 * One leg of a call: a dialog of its own (Call-ID, tags, CSeq, route set) on one side of the
 * relay. The caller's leg is one we answered (uas); a callee's is one we called (uac).
 */
import type { DialogSession, HeaderValues, SipResponse } from '@switchboard/sip-stack';
import type { RelaySide } from '../media/media-relay.js';

export type LegRole = 'uas' | 'uac';

const SDP = 'application/sdp';

export class Leg {
  readonly side: RelaySide;
  readonly role: LegRole;
  readonly dialog: DialogSession;
  /** The peer's Allow header (from its INVITE or 2xx), to know whether it takes UPDATE. */
  readonly #allow: ReadonlySet<string>;

  constructor(side: RelaySide, role: LegRole, dialog: DialogSession, allow: readonly string[]) {
    this.side = side;
    this.role = role;
    this.dialog = dialog;
    this.#allow = new Set(allow.map((m) => m.trim().toUpperCase()));
  }

  /** The same dialog as the leg of `side` (an attended transfer moving it into another call). */
  onSide(side: RelaySide): Leg {
    return new Leg(side, this.role, this.dialog, [...this.#allow]);
  }

  get callId(): string {
    return this.dialog.callId;
  }

  /** RFC 3261 §14.1: the owner of the Call-ID waits longer before retrying after 491. */
  get ownsCallId(): boolean {
    return this.role === 'uac';
  }

  get ended(): boolean {
    return this.dialog.state === 'terminated';
  }

  /** The peer said it accepts UPDATE (RFC 3311); unknown counts as no. */
  get acceptsUpdate(): boolean {
    return this.#allow.has('UPDATE');
  }

  /** An offer in a re-INVITE or UPDATE; resolves with the final response (491 included). */
  sendOffer(
    method: 'INVITE' | 'UPDATE',
    sdp: string | undefined,
    headers: HeaderValues = {},
  ): Promise<SipResponse> {
    const body = sdp === undefined ? {} : { body: sdp, contentType: SDP };
    if (method === 'INVITE') return this.dialog.reinvite({ headers, ...body });
    return this.dialog.request('UPDATE', { headers, ...body });
  }

  /** Sends BYE unless the dialog already ended; never throws. */
  async hangup(headers: HeaderValues = {}): Promise<void> {
    if (this.ended) return;
    try {
      await this.dialog.bye({ headers });
    } catch {
      // The dialog ended meanwhile (peer BYE, endpoint closing): nothing left to hang up.
    }
  }
}
