// Bounded deterministic fuzz of parseMessage: 20,000 mutations (bit flips, truncations,
// duplications, splices, header insertions...) of the RFC 4475 and RFC 5118 fixtures. Untrusted
// bytes never throw: every input yields a result, and any accepted message can be read and
// serialised without throwing. The 1,000,000-input run with memory figures is bench/parser/fuzz.mjs.
import t from 'tap';
import { parseMessage } from '../../src/message/parse-message.js';
import type { ParseResult } from '../../src/message/errors.js';
import type { SipMessage } from '../../src/message/sip-message.js';
import { allFixtures } from '../support/fixtures.js';
import { createRng, mutate } from '../../../../bench/parser/mutate.mjs';

const SEED = 0x5eed4475;
const COUNT = 20_000;
const CODES = new Set([
  'SIP_ERR_PARSE',
  'SIP_ERR_TOO_LARGE',
  'SIP_ERR_VERSION',
  'SIP_ERR_INCOMPLETE',
]);

/** Reads everything a proxy or TU would read, then serialises; throws if any of it throws. */
function exercise(m: SipMessage): void {
  void [m.via, m.topVia, m.callId, m.cseq, m.from, m.to, m.fromTag, m.toTag, m.maxForwards];
  void [m.contacts, m.routes, m.recordRoutes, m.body.length, [...m.headers.entries()]];
  if (m.kind === 'request') void m.requestUri;
  const again = parseMessage(m.clone().toBuffer());
  if (again.ok) void again.message.toBuffer();
}

/** A message describing what is wrong with a result's shape, or undefined when it is well formed. */
function badShape(r: ParseResult | undefined): string | undefined {
  if (r === undefined || typeof r !== 'object') return 'no result';
  if (r.ok)
    return r.message.kind === 'request' || r.message.kind === 'response'
      ? undefined
      : 'message without kind';
  if (!CODES.has(r.error.code)) return `unknown error code ${String(r.error.code)}`;
  return typeof r.error.reason === 'string' ? undefined : 'error without reason';
}

t.test(
  `parseMessage never throws and always returns a result on ${COUNT} mutated fixtures (seed ${SEED})`,
  (t) => {
    const corpus = allFixtures().map((f) => f.bytes);
    const rng = createRng(SEED);
    const failures: string[] = [];
    let accepted = 0;
    for (let n = 0; n < COUNT; n++) {
      const input = mutate(rng, corpus);
      const datagram = n % 4 !== 0; // every 4th input as a stream transport would frame it
      let problem: string | undefined;
      try {
        const r = parseMessage(input, { datagram });
        problem = badShape(r);
        if (problem === undefined && r.ok) {
          accepted++;
          exercise(r.message);
        }
      } catch (err) {
        problem = `threw ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
      }
      if (problem !== undefined && failures.length < 5)
        failures.push(`#${n} ${problem}\n  input(base64): ${input.toString('base64')}`);
      else if (problem !== undefined) failures.push(`#${n}`);
    }
    t.comment(`${COUNT} inputs, ${accepted} accepted, ${COUNT - accepted} rejected`);
    t.same(failures, [], 'no input threw or produced a malformed result');
    t.ok(
      accepted > COUNT / 20 && accepted < COUNT,
      'the mutations reach both the accepting and the rejecting paths',
    );
    t.end();
  },
);

t.test('the fuzz input sequence is deterministic for a seed', (t) => {
  const corpus = allFixtures().map((f) => f.bytes);
  const a = createRng(SEED);
  const b = createRng(SEED);
  const differing: number[] = [];
  for (let n = 0; n < 200; n++) if (!mutate(a, corpus).equals(mutate(b, corpus))) differing.push(n);
  t.same(differing, [], 'the first 200 inputs repeat exactly');
  t.end();
});
