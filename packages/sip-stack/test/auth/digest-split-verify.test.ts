import t from 'tap';
import { computeDigestResponse, computeHa1 } from '../../src/auth/digest-algorithm.js';
import { DigestClient } from '../../src/auth/digest-client.js';
import { parseAuthParams, quoteString } from '../../src/auth/parse-auth-params.js';
import { DigestNonce } from '../../src/auth/digest-nonce.js';
import { DigestServer } from '../../src/auth/digest-server.js';
import { createRequest } from '../../src/message/build-request.js';
import type { SipRequest } from '../../src/message/sip-message.js';
import { ManualClock } from '../../src/util/clock.js';

function register(): SipRequest {
  return createRequest({
    method: 'REGISTER',
    uri: 'sip:example.com',
    from: '<sip:alice@example.com>;tag=a1',
    to: '<sip:alice@example.com>',
    callId: 'reg-1@192.0.2.1',
    cseq: 1,
    via: ['SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKreg;rport'],
  });
}

function setup() {
  const clock = new ManualClock(1_700_000_000_000);
  const server = new DigestServer({
    realm: 'example.com',
    secret: 'k',
    clock,
    algorithms: ['MD5'],
    nonceTtlMs: 60_000,
  });
  return { clock, server };
}

/** A REGISTER answered by a client with `password` to a fresh challenge. */
function answered(server: DigestServer, password: string): SipRequest {
  const req = register();
  const client = new DigestClient({ credentials: { username: 'alice', password } });
  const a = client.authorize(req, server.challengeResponse(req));
  if (!a.ok) throw new Error(a.reason);
  return a.request;
}

/** The response check a control plane would do with the stored HA1. */
function judge(req: SipRequest, server: DigestServer): boolean {
  const c = server.checkNonce(req);
  if (!c.ok) return false;
  const cr = c.credentials;
  const expected = computeDigestResponse({
    algorithm: cr.algorithm,
    ha1: computeHa1('MD5', 'alice', 'example.com', 'wonderland'),
    nonce: cr.nonce,
    cnonce: cr.cnonce ?? '',
    nc: cr.nc ?? '',
    qop: cr.qop ?? 'auth',
    method: req.method,
    uri: cr.uri,
  });
  return expected === cr.response;
}

t.test('split verify: checkNonce then confirm accepts a fresh, correct answer once', (t) => {
  const { server } = setup();
  const req = answered(server, 'wonderland');
  const checked = server.checkNonce(req);
  t.ok(checked.ok);
  if (!checked.ok) return t.end();
  t.equal(checked.realm, 'example.com');
  t.equal(checked.credentials.username, 'alice');
  t.ok(judge(req, server), 'the response is judged by the caller');
  const first = server.confirm(req, checked);
  t.same(first.ok && [first.username, first.realm], ['alice', 'example.com']);
  const again = server.confirm(req, checked);
  t.equal(again.ok === false && again.reason, 'replay', 'the same nonce-count twice is a replay');
  t.match(again.ok === false && again.response.headers.get('WWW-Authenticate'), /stale=true/);
  t.end();
});

t.test('split verify: confirm answers stale=true when the nonce expired', (t) => {
  const { clock, server } = setup();
  const req = answered(server, 'wonderland');
  clock.advance(61_000);
  const checked = server.checkNonce(req);
  if (!checked.ok) return t.fail('nonce integrity does not depend on age');
  const r = server.confirm(req, checked);
  t.equal(r.ok === false && r.reason, 'stale');
  t.match(r.ok === false && r.response.headers.get('WWW-Authenticate'), /stale=true/);
  t.end();
});

t.test('split verify: checkNonce refuses missing, forged and other-realm credentials', (t) => {
  const { server } = setup();
  const none = server.checkNonce(register());
  t.same(none.ok === false && [none.reason, none.response.status], ['missing', 401]);
  const req = answered(server, 'wonderland');
  const auth = req.headers.get('Authorization') ?? '';
  const forged = register();
  forged.headers.set('Authorization', auth.replace(/nonce="[^"]+"/, `nonce="${'A'.repeat(64)}"`));
  const f = server.checkNonce(forged);
  t.same(f.ok === false && [f.reason, f.detail], ['bad-response', 'nonce not issued here']);
  const other = register();
  other.headers.set('Authorization', auth.replace('realm="example.com"', 'realm="other.org"'));
  t.equal(server.checkNonce(other).ok, false);
  t.end();
});

t.test('nonce: nonces minted in the same millisecond differ and all validate', (t) => {
  const n = new DigestNonce({ secrets: ['k'], now: () => 1_700_000_000_000 });
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const nonce = n.create('example.com');
    if (!n.check(nonce, 'example.com').valid) t.fail(`nonce ${i} invalid`);
    seen.add(nonce);
  }
  t.equal(seen.size, 1000);
  t.end();
});

t.test('challenge: per-realm templates keep realm escaping and a fresh nonce each time', (t) => {
  const server = new DigestServer({
    realm: (r) => r.uri.slice(4),
    secret: 'k',
    algorithms: ['MD5'],
  });
  const a = server.challenge('a"b.example');
  const b = server.challenge('a"b.example');
  const pa = parseAuthParams(a.values[0] ?? '');
  const pb = parseAuthParams(b.values[0] ?? '');
  t.equal(pa.ok && pa.value.params.get('realm')?.value, 'a"b.example');
  t.not(pa.ok && pa.value.params.get('nonce')?.value, pb.ok && pb.value.params.get('nonce')?.value);
  t.equal(quoteString('plain'), '"plain"');
  t.equal(quoteString('a"b\\c\r\n'), '"a\\"b\\\\c"');
  const escaped = parseAuthParams('Digest realm="x\\"y", nonce="n"');
  t.equal(escaped.ok && escaped.value.params.get('realm')?.value, 'x"y');
  t.end();
});
