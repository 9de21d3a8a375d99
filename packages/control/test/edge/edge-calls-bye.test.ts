import t from 'tap';
import { parseMessage, type SipMessage } from '@switchboard/sip-stack';
import type { Brain, ReleaseRequest } from '../../src/brain/brain.js';
import { BYE_CAUSES, BYE_TIMEOUT_MS, EdgeCalls } from '../../src/edge/edge-calls.js';
import { CountedCalls, EdgeCounters } from '../../src/edge/edge-metrics.js';
import { silentLogger } from '../../src/edge/edge-options.js';
import { AnchoringTransport, MediaAnchor } from '../../src/edge/media-anchor.js';

/** A brain that records releases; only `release` and `presenceEvent` are used by EdgeCalls. */
function recordingBrain(): { brain: Brain; releases: ReleaseRequest[] } {
  const releases: ReleaseRequest[] = [];
  const brain = {
    release: (req: ReleaseRequest) => {
      releases.push(req);
      return Promise.resolve({ ok: true, released: true, counters: [] });
    },
    presenceEvent: () => Promise.resolve({ ok: true, known: true }),
  } as unknown as Brain;
  return { brain, releases };
}

/** Timers fired by hand: the BYE wait never depends on real time. */
function manualTimers() {
  const pending: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  return {
    pending,
    setTimer: (fn: () => void, ms: number) => {
      const entry = { fn, ms, cancelled: false };
      pending.push(entry);
      return { cancel: () => void (entry.cancelled = true) };
    },
    fireAll: () => {
      for (const e of pending.splice(0)) if (!e.cancelled) e.fn();
    },
  };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function answeredCall(calls: EdgeCalls, callId: string): void {
  calls.begin(callId, 'caller-tag', 'acc_1');
  calls.answered(callId);
}

function byeResponse(callId: string, status: number, method = 'BYE'): SipMessage {
  const text =
    `SIP/2.0 ${status} Whatever\r\n` +
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n' +
    'From: <sip:alice@example.com>;tag=caller-tag\r\n' +
    'To: <sip:bob@example.com>;tag=callee-tag\r\n' +
    `Call-ID: ${callId}\r\n` +
    `CSeq: 2 ${method}\r\n` +
    'Content-Length: 0\r\n\r\n';
  const parsed = parseMessage(Buffer.from(text, 'latin1'));
  if (!parsed.ok) throw new Error('fixture response did not parse');
  return parsed.message;
}

t.test(
  'EdgeCalls: a BYE passing keeps the call until its 2xx, then ends it as bye once',
  async (t) => {
    const { brain, releases } = recordingBrain();
    const timers = manualTimers();
    const calls = new EdgeCalls({ brain, logger: silentLogger, setTimer: timers.setTimer });
    answeredCall(calls, 'c1');
    t.equal(await calls.end('c1', 'answered', BYE_CAUSES.answered), true, 'the call is known');
    t.ok(calls.get('c1'), 'still tracked while the BYE is in flight');
    t.equal(releases.length, 0, 'nothing released yet');
    t.equal(timers.pending[0]?.ms, BYE_TIMEOUT_MS, 'the BYE waits Timer F at most');
    t.equal(await calls.byeAnswered('c1', 200), true);
    t.equal(calls.get('c1'), undefined);
    t.equal(releases.length, 1);
    t.match(releases[0]?.end, { disposition: 'answered', hangupCause: 'bye' });
    t.equal(await calls.byeAnswered('c1', 200), false, 'a retransmitted 200 ends nothing more');
    timers.fireAll();
    await settle();
    t.equal(releases.length, 1, 'the cancelled timer releases nothing');
  },
);

t.test('EdgeCalls: a BYE that is never answered ends the call as bye-timeout', async (t) => {
  const { brain, releases } = recordingBrain();
  const timers = manualTimers();
  const calls = new EdgeCalls({ brain, logger: silentLogger, setTimer: timers.setTimer });
  answeredCall(calls, 'c2');
  calls.byeForwarded('c2');
  calls.byeForwarded('c2');
  t.equal(timers.pending.length, 1, 'a second BYE does not start a second wait');
  timers.fireAll();
  await settle();
  t.equal(calls.get('c2'), undefined);
  t.equal(releases.length, 1);
  t.match(releases[0]?.end, { disposition: 'answered', hangupCause: 'bye-timeout' });
  t.equal(await calls.byeAnswered('c2', 200), false, 'a late answer releases nothing again');
  t.equal(releases.length, 1);
});

t.test(
  'EdgeCalls: a 408 to the BYE is a timeout, a 481 an answered BYE (RFC 3261 §15.1.1)',
  async (t) => {
    const { brain, releases } = recordingBrain();
    const timers = manualTimers();
    const calls = new EdgeCalls({ brain, logger: silentLogger, setTimer: timers.setTimer });
    answeredCall(calls, 'c3');
    answeredCall(calls, 'c4');
    calls.byeForwarded('c3');
    calls.byeForwarded('c4');
    t.equal(await calls.byeAnswered('c3', 100), false, 'a provisional response ends nothing');
    await calls.byeAnswered('c3', 408);
    await calls.byeAnswered('c4', 481);
    t.same(
      releases.map((r) => [r.callId, r.end?.hangupCause]),
      [
        ['c3', 'bye-timeout'],
        ['c4', 'bye'],
      ],
    );
  },
);

t.test('EdgeCalls: stopping ends a call whose BYE is in flight, once', async (t) => {
  const { brain, releases } = recordingBrain();
  const timers = manualTimers();
  const calls = new EdgeCalls({ brain, logger: silentLogger, setTimer: timers.setTimer });
  answeredCall(calls, 'c5');
  calls.byeForwarded('c5');
  await calls.endAll('shutdown');
  timers.fireAll();
  await settle();
  t.same(
    releases.map((r) => r.end?.hangupCause),
    ['shutdown'],
  );
});

t.test(
  'CountedCalls: a call is counted as ended when its BYE is answered, not before',
  async (t) => {
    const { brain } = recordingBrain();
    const timers = manualTimers();
    const calls = new CountedCalls({ brain, logger: silentLogger, setTimer: timers.setTimer });
    const counters = new EdgeCounters();
    calls.attach(counters);
    answeredCall(calls, 'c6');
    await calls.end('c6', 'answered', 'bye');
    t.equal(counters.callsEnded.answered, 0, 'not ended while the BYE is in flight');
    await calls.byeAnswered('c6', 200);
    await calls.byeAnswered('c6', 200);
    t.equal(counters.callsEnded.answered, 1, 'counted once');
  },
);

t.test(
  'AnchoringTransport: the final response to a BYE on its way out ends the call',
  async (t) => {
    const { brain, releases } = recordingBrain();
    const timers = manualTimers();
    const calls = new EdgeCalls({ brain, logger: silentLogger, setTimer: timers.setTimer });
    const anchor = new MediaAnchor({
      relay: undefined,
      mode: 'never',
      calls,
      logger: silentLogger,
    });
    const sent: SipMessage[] = [];
    const inner = {
      send: (m: SipMessage) => {
        sent.push(m);
        return Promise.resolve({} as never);
      },
      sendBuffer: () => Promise.resolve({} as never),
    };
    const wire = new AnchoringTransport(inner as never, anchor);
    const target = {} as never;
    answeredCall(calls, 'c7');
    calls.byeForwarded('c7');
    await wire.send(byeResponse('c7', 200, 'INVITE'), target);
    t.ok(calls.get('c7'), 'a 200 to the INVITE (retransmitted) does not end the call');
    await wire.send(byeResponse('c7', 200), target);
    await settle();
    t.equal(sent.length, 2, 'the responses are still sent');
    t.equal(calls.get('c7'), undefined);
    t.match(releases[0]?.end, { hangupCause: 'bye' });
  },
);
