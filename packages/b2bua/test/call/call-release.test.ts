import t from 'tap';
import type { DialogSession, IncomingRequest, TerminationReason } from '@switchboard/sip-stack';
import { CallLegs } from '../../src/call/call-legs.js';
import { Leg } from '../../src/call/leg.js';
import type { OfferRelay } from '../../src/signalling/offer-relay.js';
import type { RequestRelay } from '../../src/signalling/request-relay.js';
import { connectedCall } from '../support/connected-call.js';
import { nextEvent } from '../support/call-harness.js';

type Handler = (request: IncomingRequest) => unknown;

/** The part of a dialog CallLegs touches: request handlers and 'terminated' listeners. */
class FakeDialog {
  readonly handlers = new Map<string, Handler>();
  readonly terminated: ((reason: TerminationReason) => void)[] = [];
  onRequest(method: string, handler: Handler): this {
    this.handlers.set(method, handler);
    return this;
  }
  on(_event: 'terminated', listener: (reason: TerminationReason) => void): this {
    this.terminated.push(listener);
    return this;
  }
  off(_event: 'terminated', listener: (reason: TerminationReason) => void): this {
    const i = this.terminated.indexOf(listener);
    if (i >= 0) this.terminated.splice(i, 1);
    return this;
  }
}

function legOn(side: 'a' | 'b', dialog: FakeDialog): Leg {
  return new Leg(side, side === 'a' ? 'uas' : 'uac', dialog as unknown as DialogSession, []);
}

/** A request that records the status it is answered with. */
function request(method: string): { req: IncomingRequest; statuses: number[] } {
  const statuses: number[] = [];
  const req = {
    method,
    responded: false,
    respond: (status: number) => {
      statuses.push(status);
    },
  } as unknown as IncomingRequest;
  return { req, statuses };
}

function callLegs(calls: string[]): CallLegs {
  const record = (name: string) => (leg: Leg) =>
    leg.dialog.onRequest(name === 'offers' ? 'INVITE' : 'INFO', () => {
      calls.push(name);
    });
  return new CallLegs({
    offers: { attach: record('offers') } as unknown as OfferRelay,
    requests: { attach: record('requests') } as unknown as RequestRelay,
    refer: () => {
      calls.push('refer');
    },
    legEnded: (leg, reason) => {
      calls.push(`ended ${leg.side} ${reason}`);
    },
  });
}

t.test(
  'released call legs answer in-dialog requests 481 without the call, and no dialog reports to it',
  async (t) => {
    const calls: string[] = [];
    const legs = callLegs(calls);
    const da = new FakeDialog();
    const db = new FakeDialog();
    legs.attach(legOn('a', da));
    legs.attach(legOn('b', db));
    da.handlers.get('REFER')?.(request('REFER').req);
    db.terminated[0]?.('remote-bye');
    t.same(calls, ['refer', 'ended b remote-bye'], 'attached: REFER and the end reach the call');

    legs.release();
    t.equal(da.terminated.length + db.terminated.length, 0, "no 'terminated' listener left");
    for (const dialog of [da, db])
      for (const method of ['INVITE', 'UPDATE', 'INFO', 'MESSAGE', 'REFER']) {
        const { req, statuses } = request(method);
        await dialog.handlers.get(method)?.(req);
        t.same(statuses, [481], `${method} after the end: 481`);
      }
    t.equal(calls.length, 2, 'nothing reached the call after release');
  },
);

t.test('a leg that moved to another call keeps that call’s handlers on release', (t) => {
  const legs = callLegs([]);
  const moved = new FakeDialog();
  const leg = legOn('b', moved);
  legs.attach(leg);
  legs.remove('b', leg);
  const theirs: Handler = () => undefined;
  moved.onRequest('INVITE', theirs);
  legs.release();
  t.equal(moved.handlers.get('INVITE'), theirs, 'the new owner’s INVITE handler stays');
  t.equal(moved.terminated.length, 0, 'our listener is gone all the same');
  t.end();
});

t.test(
  'an ended call leaves no listener on the caller’s INVITE or on its legs’ dialogs',
  async (t) => {
    const { call, aDialog, bDialog } = await connectedCall(t);
    const legA = call.leg('a')?.dialog;
    const legB = call.leg('b')?.dialog;
    t.equal(call.caller.listenerCount('cancel'), 1, 'during the call: CANCEL watched');
    const during = [legA?.listenerCount('terminated'), legB?.listenerCount('terminated')];
    const bBye = nextEvent(bDialog, 'bye');
    await aDialog.bye();
    await bBye;
    await call.ended;
    t.equal(call.caller.listenerCount('cancel'), 0, 'no CANCEL listener after the end');
    t.same(
      [legA?.listenerCount('terminated'), legB?.listenerCount('terminated')],
      during.map((n) => (n ?? 0) - 1),
      "the call's 'terminated' listener is off both legs",
    );
  },
);
