import t from 'tap';
import type { IncomingRequest, SipEndpoint } from '@switchboard/sip-stack';
import { b2buaHarness, drained, failure, party, uriOf } from '../support/call-harness.js';
import { ANSWER_B, OFFER_A } from '../support/sdp-samples.js';

const SDP = 'application/sdp';

/** Records, in order, what happened to each party: 'b:invite', 'b:cancel', 'c:invite'... */
function behave(
  log: string[],
  name: string,
  ep: SipEndpoint,
  act: (req: IncomingRequest) => void,
): void {
  ep.onRequest('INVITE', (req) => {
    log.push(`${name}:invite`);
    req.on('cancel', () => log.push(`${name}:cancel`));
    act(req);
  });
}

const ring = (req: IncomingRequest): void => void req.progress(180);
const answer = (req: IncomingRequest): void =>
  void req.accept({ body: ANSWER_B, contentType: SDP });

t.test(
  'sequential: B rings until its own timeout and is cancelled, then C is tried and answers',
  async (t) => {
    const a = await party(t);
    const b = await party(t);
    const c = await party(t);
    const log: string[] = [];
    behave(log, 'b', b, ring);
    behave(log, 'c', c, answer);
    const h = await b2buaHarness(t, {
      plan: () => ({
        ring: 'sequential',
        targets: [{ uri: uriOf(b, 'bob'), timeoutMs: 100 }, { uri: uriOf(c, 'carol') }],
      }),
    });
    const { dialog } = await a.invite({ uri: h.uri, body: OFFER_A, contentType: SDP });
    t.same(log, ['b:invite', 'b:cancel', 'c:invite'], 'C only after B gave up');
    await dialog.bye();
    await drained(t, h);
  },
);

t.test('sequential: a busy first step moves on; targets of one step ring together', async (t) => {
  const a = await party(t);
  const [b, c, d] = [await party(t), await party(t), await party(t)];
  const log: string[] = [];
  behave(log, 'b', b, (req) => void req.reject(486));
  behave(log, 'c', c, ring);
  behave(log, 'd', d, (req) => setTimeout(() => answer(req), 30));
  const h = await b2buaHarness(t, {
    plan: () => ({
      ring: 'sequential',
      targets: [
        { uri: uriOf(b, 'bob'), step: 1 },
        { uri: uriOf(c, 'carol'), step: 2 },
        { uri: uriOf(d, 'dave'), step: 2 },
      ],
    }),
  });
  const { dialog } = await a.invite({ uri: h.uri, body: OFFER_A, contentType: SDP });
  t.equal(log[0], 'b:invite');
  t.same(log.slice(1, 3).sort(), ['c:invite', 'd:invite'], 'step 2 rang together');
  await dialog.bye();
  await drained(t, h);
  t.ok(log.includes('c:cancel'), 'the loser of step 2 was cancelled');
});

t.test(
  'parallel with a delay: the first target answers before the delayed one is called',
  async (t) => {
    const a = await party(t);
    const b = await party(t);
    const c = await party(t);
    const log: string[] = [];
    behave(log, 'b', b, answer);
    behave(log, 'c', c, answer);
    const h = await b2buaHarness(t, {
      plan: () => ({
        targets: [{ uri: uriOf(b, 'bob') }, { uri: uriOf(c, 'carol'), delayMs: 2000 }],
      }),
    });
    const { dialog } = await a.invite({ uri: h.uri, body: OFFER_A, contentType: SDP });
    t.same(log, ['b:invite'], 'C was never called');
    await dialog.bye();
    await drained(t, h);
  },
);

t.test('a 6xx ends the search: ringing forks are cancelled, later steps never tried', async (t) => {
  const a = await party(t);
  const [b, c, d] = [await party(t), await party(t), await party(t)];
  const log: string[] = [];
  behave(log, 'b', b, (req) => setTimeout(() => void req.reject(603), 30));
  behave(log, 'c', c, ring);
  behave(log, 'd', d, answer);
  const h = await b2buaHarness(t, {
    plan: () => ({
      ring: 'sequential',
      targets: [
        { uri: uriOf(b, 'bob'), step: 0 },
        { uri: uriOf(c, 'carol'), step: 0 },
        { uri: uriOf(d, 'dave'), step: 1 },
      ],
    }),
  });
  const err = await failure(a.invite({ uri: h.uri, body: OFFER_A, contentType: SDP }).completed);
  t.equal(err.status, 603);
  await drained(t, h);
  t.ok(log.includes('c:cancel'), 'the ringing fork was cancelled (RFC 3261 §16.7)');
  t.notOk(log.includes('d:invite'), 'the next step was never tried');
});
