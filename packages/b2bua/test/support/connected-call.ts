/** A call A → B2BUA → B already answered, for the in-call tests. */
import type { Clock, DialogSession, HeaderValues, SipEndpoint } from '@switchboard/sip-stack';
import type { Call } from '../../src/call/call.js';
import type { CallPlan } from '../../src/call/call-types.js';
import { b2buaHarness, party, until, uriOf, type Harness, type Teardown } from './call-harness.js';
import { ANSWER_B, OFFER_A } from './sdp-samples.js';

export interface ConnectedCall {
  h: Harness;
  a: SipEndpoint;
  b: SipEndpoint;
  aDialog: DialogSession;
  bDialog: DialogSession;
  call: Call;
  /** The SDP B received in the INVITE, and A in the 200. */
  offerToB: string;
  answerToA: string;
}

export interface ConnectOptions {
  clock?: Clock;
  plan?: Partial<CallPlan>;
  /** Headers of A's INVITE. */
  inviteHeaders?: HeaderValues;
  /** Headers of B's 200. */
  answerHeaders?: HeaderValues;
  /** B's endpoint option tags. */
  bSupported?: string[];
}

export async function connectedCall(
  t: Teardown,
  options: ConnectOptions = {},
): Promise<ConnectedCall> {
  const a = await party(t, { supported: ['timer'] });
  const b = await party(t, { supported: options.bSupported ?? [] });
  const h = await b2buaHarness(t, {
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }], ...options.plan }),
  });
  // The caller's ACK must have reached us before a test moves a manual clock (64*T1 give-up).
  const acked = new Promise<void>((resolve) => {
    h.b2bua.once('call', (call) =>
      call.on('leg', (leg) => {
        if (leg.side === 'a') leg.dialog.once('ack', () => resolve());
      }),
    );
  });
  let offerToB = '';
  const bDialogP = new Promise<DialogSession>((resolve) => {
    b.onRequest('INVITE', (req) => {
      offerToB = req.request.body.toString();
      resolve(
        req.accept({
          body: ANSWER_B,
          contentType: 'application/sdp',
          headers: options.answerHeaders ?? {},
        }),
      );
    });
  });
  const { dialog: aDialog, response } = await a.invite({
    uri: h.uri,
    body: OFFER_A,
    contentType: 'application/sdp',
    headers: options.inviteHeaders ?? {},
  });
  const bDialog = await bDialogP;
  const call = h.calls[0];
  if (call === undefined) throw new Error('no call');
  await until(() => call.state === 'answered');
  await acked;
  return { h, a, b, aDialog, bDialog, call, offerToB, answerToA: response.body.toString() };
}
