import t from 'tap';
import {
  DigestClient,
  computeDigestResponse,
  computeHa1,
  createRequest,
  type SipRequest,
} from '@switchboard/sip-stack';
import type { AuthDecision, AuthRequest, Brain } from '../../src/brain/brain.js';
import { BrainDigest } from '../../src/edge/brain-digest.js';

const REALM = 'example.com';
const HA1 = computeHa1('MD5', '1001', REALM, 'right');

/** A brain that knows one device (1001 / "right") and counts its decisions. */
function fakeBrain(): { brain: Brain; calls: AuthRequest[] } {
  const calls: AuthRequest[] = [];
  const authenticate = (req: AuthRequest): Promise<AuthDecision> => {
    calls.push(req);
    const expected = computeDigestResponse({
      algorithm: req.algorithm ?? 'MD5',
      ha1: HA1,
      nonce: req.nonce,
      method: req.method,
      uri: req.uri,
      ...(req.qop === undefined
        ? {}
        : { qop: req.qop, nc: req.nc ?? '', cnonce: req.cnonce ?? '' }),
    });
    return Promise.resolve(
      req.username === '1001' && expected === req.response
        ? { ok: true, accountId: 'acc', userId: 'usr', deviceId: 'dev' }
        : { ok: false, code: 'CTL_ERR_AUTH_FAILED', reason: 'wrong credentials', status: 401 },
    );
  };
  return { brain: { authenticate } as unknown as Brain, calls };
}

function register(): SipRequest {
  return createRequest({
    method: 'REGISTER',
    uri: `sip:${REALM}`,
    from: `<sip:1001@${REALM}>;tag=a1`,
    to: `<sip:1001@${REALM}>`,
    callId: 'reg@192.0.2.1',
    cseq: 1,
    via: ['SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKr1;rport'],
  });
}

async function answer(digest: BrainDigest, password: string, challengeFrom?: SipRequest) {
  const req = register();
  const first = await digest.verify(challengeFrom ?? req);
  if (first.ok) throw new Error('accepted without credentials');
  const client = new DigestClient({ credentials: { username: '1001', password } });
  const a = client.authorize(req, first.response);
  if (!a.ok) throw new Error(a.reason);
  return a.request;
}

t.test(
  'brain digest: the brain judges the response; a right answer is accepted once',
  async (t) => {
    const { brain, calls } = fakeBrain();
    const digest = new BrainDigest({ brain, mode: 'www', algorithms: ['MD5'] });
    const req = await answer(digest, 'right');
    const ok = await digest.verify(req);
    t.same(ok.ok && [ok.username, ok.realm, ok.deviceId], ['1001', REALM, 'dev']);
    t.equal(calls.length, 1);
    const replay = await digest.verify(req);
    t.equal(replay.ok, false, 'the same nonce-count again is refused');
    t.match(!replay.ok && replay.response.headers.get('WWW-Authenticate'), /stale=true/);
    t.end();
  },
);

t.test(
  'brain digest: a wrong answer gets a plain challenge and does not use up the nonce-count',
  async (t) => {
    const { brain } = fakeBrain();
    const digest = new BrainDigest({ brain, mode: 'www', algorithms: ['MD5'] });
    const wrong = await answer(digest, 'wrong');
    const r = await digest.verify(wrong);
    t.equal(r.ok === false && r.response.status, 401);
    t.notMatch(r.ok === false && r.response.headers.get('WWW-Authenticate'), /stale=true/);
    // the same nonce and nc=1, now with the right password (RFC 7616 §3.4: nc counts accepted requests)
    const auth = wrong.headers.get('Authorization') ?? '';
    const nonce = /nonce="([^"]+)"/.exec(auth)?.[1] ?? '';
    const cnonce = /cnonce="([^"]+)"/.exec(auth)?.[1] ?? '';
    const right = computeDigestResponse({
      algorithm: 'MD5',
      ha1: HA1,
      nonce,
      cnonce,
      nc: '00000001',
      qop: 'auth',
      method: 'REGISTER',
      uri: `sip:${REALM}`,
    });
    const fixed = register();
    fixed.headers.set('Authorization', auth.replace(/response="[^"]+"/, `response="${right}"`));
    const ok = await digest.verify(fixed);
    t.equal(ok.ok, true);
    t.end();
  },
);

t.test(
  'brain digest: an expired nonce with a wrong answer is not stale (RFC 7616 §3.3)',
  async (t) => {
    const { brain } = fakeBrain();
    const digest = new BrainDigest({ brain, mode: 'www', algorithms: ['MD5'], nonceTtlMs: 1 });
    const wrong = await answer(digest, 'wrong');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const r = await digest.verify(wrong);
    t.equal(r.ok, false);
    t.notMatch(!r.ok && r.response.headers.get('WWW-Authenticate'), /stale=true/);
    const right = await answer(digest, 'right');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const stale = await digest.verify(right);
    t.match(!stale.ok && stale.response.headers.get('WWW-Authenticate'), /stale=true/);
    t.end();
  },
);

t.test(
  'brain digest: a REGISTER without credentials is challenged at once, without asking the brain',
  async (t) => {
    const { brain, calls } = fakeBrain();
    const digest = new BrainDigest({ brain, mode: 'www', algorithms: ['MD5'] });
    const r = digest.verify(register());
    t.notOk(r instanceof Promise, 'the challenge is the answer itself, not a promise of it');
    t.equal(!(r instanceof Promise) && !r.ok && r.response.status, 401);
    t.equal(calls.length, 0);
    const req = await answer(digest, 'right');
    const judged = digest.verify(req);
    t.ok(judged instanceof Promise, 'credentials wait for the brain');
    t.equal((await judged).ok, true);
    t.end();
  },
);
