import t from 'tap';
import { DIGEST_ALGORITHMS, computeHa1, computeUserhash } from '../../src/auth/digest-algorithm.js';
import { DigestClient } from '../../src/auth/digest-client.js';
import { parseDigestCredentials } from '../../src/auth/digest-credentials.js';
import {
  DigestServer,
  type DigestServerOptions,
  type Ha1Lookup,
} from '../../src/auth/digest-server.js';
import { createRequest } from '../../src/message/build-request.js';
import type { SipRequest } from '../../src/message/sip-message.js';
import { ManualClock } from '../../src/util/clock.js';

const USERS: Record<string, string> = {
  alice: 'wonderland',
  'J\u00e4s\u00f8n Doe': 'Secret, or not?',
};
const lookup: Ha1Lookup = (username, realm, algorithm) => {
  const pw = USERS[username];
  return pw === undefined ? undefined : computeHa1(algorithm, username, realm, pw);
};

function invite(body = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n'): SipRequest {
  return createRequest({
    method: 'INVITE',
    uri: 'sip:bob@example.com',
    from: '<sip:alice@example.com>;tag=a1',
    to: '<sip:bob@example.com>',
    callId: 'call-1@192.0.2.1',
    cseq: 7,
    via: [
      'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfirst;rport',
      'SIP/2.0/TCP 198.51.100.1;branch=z9hG4bKlower',
    ],
    body,
    contentType: 'application/sdp',
  });
}

function setup(opts: Partial<DigestServerOptions> = {}) {
  const clock = new ManualClock(1_700_000_000_000);
  const server = new DigestServer({ realm: 'example.com', secret: 'test-secret', clock, ...opts });
  return { clock, server };
}

/** Challenge, answer, verify: returns the authorized request and the verify result. */
async function roundTrip(server: DigestServer, client: DigestClient, req = invite()) {
  const first = await server.verify(req, lookup);
  if (first.ok) throw new Error('unauthenticated request accepted');
  const answered = client.authorize(req, first.response);
  if (!answered.ok) throw new Error(`client failed: ${answered.reason} ${answered.detail}`);
  return {
    first,
    request: answered.request,
    result: await server.verify(answered.request, lookup),
  };
}

const alice = { username: 'alice', password: 'wonderland' };

for (const algorithm of DIGEST_ALGORITHMS) {
  for (const qop of ['auth', 'auth-int', undefined] as const) {
    t.test(
      `round trip: ${algorithm} with qop ${qop ?? 'absent (RFC 2069)'} authenticates alice`,
      async (t) => {
        const { server } = setup({
          algorithms: [algorithm],
          qop: qop === undefined ? [] : [qop],
          allowNoQop: qop === undefined,
        });
        const client = new DigestClient({ credentials: alice });
        const { first, request, result } = await roundTrip(server, client);
        t.equal(first.ok === false && first.reason, 'missing');
        t.equal(first.response.status, 401);
        t.match(request.headers.get('Authorization'), new RegExp(`algorithm=${algorithm}(,|$)`));
        const creds = parseDigestCredentials(request.headers.get('Authorization') ?? '');
        t.equal(creds.ok && creds.value.qop, qop);
        t.same(result.ok && [result.username, result.realm, result.algorithm], [
          'alice',
          'example.com',
          algorithm,
        ]);
        if (qop === 'auth-int') {
          const tampered = request.clone();
          tampered.body = Buffer.from('v=0\r\no=- 1 1 IN IP4 203.0.113.66\r\n');
          const r = await server.verify(tampered, lookup);
          t.equal(r.ok === false && r.reason, 'bad-response', 'auth-int covers the body');
        }
      },
    );
  }
}

t.test(
  'client: the resubmitted request has CSeq + 1 and a new branch on the top Via only',
  async (t) => {
    const { server } = setup();
    const req = invite();
    const { request } = await roundTrip(server, new DigestClient({ credentials: alice }), req);
    t.equal(request.cseq.seq, 8);
    t.equal(request.cseq.method, 'INVITE');
    t.not(request.topVia?.branch, 'z9hG4bKfirst');
    t.match(request.topVia?.branch, /^z9hG4bK/);
    t.equal(request.via[1]?.branch, 'z9hG4bKlower');
    t.equal(request.topVia?.rport, null, 'other Via params kept');
    t.equal(req.cseq.seq, 7, 'the original request is untouched');
    t.notOk(req.headers.has('Authorization'));
  },
);

t.test(
  'server: challenges are offered in the configured order of preference (RFC 8760 §2.4)',
  (t) => {
    const { server } = setup({
      algorithms: ['MD5', 'SHA-256', 'SHA-512-256'],
      qop: ['auth', 'auth-int'],
    });
    const c = server.challenge('example.com');
    t.equal(c.status, 401);
    t.equal(c.name, 'WWW-Authenticate');
    t.same(
      c.values.map((v) => /algorithm=([^,]+)/.exec(v)?.[1]),
      ['MD5', 'SHA-256', 'SHA-512-256'],
    );
    t.match(c.values[0], /qop="auth,auth-int"/);
    t.match(c.values[0], /opaque="/);
    t.end();
  },
);

t.test('client: picks the strongest algorithm it supports among those offered', async (t) => {
  const { server } = setup({ algorithms: ['MD5', 'SHA-256', 'SHA-512-256'] });
  const strong = await roundTrip(server, new DigestClient({ credentials: alice }));
  t.match(strong.request.headers.get('Authorization'), /algorithm=SHA-512-256/);
  t.ok(strong.result.ok);
  const legacy = await roundTrip(
    server,
    new DigestClient({ credentials: alice, algorithms: ['MD5'] }),
  );
  t.match(legacy.request.headers.get('Authorization'), /algorithm=MD5,/);
  t.ok(legacy.result.ok);
});

t.test('client: uses auth-int when it is the only qop offered', async (t) => {
  const { server } = setup({ qop: ['auth-int'] });
  const { request, result } = await roundTrip(server, new DigestClient({ credentials: alice }));
  t.match(request.headers.get('Authorization'), /qop=auth-int/);
  t.ok(result.ok);
});

t.test(
  'stale nonce: a correct response after the nonce TTL gets stale=true, and the client retries',
  async (t) => {
    const { server, clock } = setup({ nonceTtlMs: 60_000 });
    const client = new DigestClient({ credentials: alice });
    const first = await server.verify(invite(), lookup);
    if (first.ok) return t.fail('accepted');
    const answered = client.authorize(invite(), first.response);
    if (!answered.ok) return t.fail(answered.reason);
    clock.advance(60_001);
    const stale = await server.verify(answered.request, lookup);
    t.equal(stale.ok === false && stale.reason, 'stale');
    t.match(stale.ok === false && stale.response.headers.get('WWW-Authenticate'), /stale=true/);
    const retry = client.authorize(
      answered.request,
      stale.ok === false ? stale.response : first.response,
    );
    t.ok(retry.ok, 'stale=true is not a rejection of the password');
    if (retry.ok) t.ok((await server.verify(retry.request, lookup)).ok);
  },
);

t.test('replay: the same nonce-count is refused the second time', async (t) => {
  const { server } = setup();
  const { request, result } = await roundTrip(server, new DigestClient({ credentials: alice }));
  t.ok(result.ok);
  const again = await server.verify(request, lookup);
  t.equal(again.ok === false && again.reason, 'replay');
  t.match(again.ok === false && again.response.headers.get('WWW-Authenticate'), /stale=true/);
});

t.test(
  'cached credentials: later requests carry nc 2, 3... and are accepted without a challenge',
  async (t) => {
    const { server } = setup();
    const client = new DigestClient({ credentials: alice });
    await roundTrip(server, client);
    for (const nc of ['00000002', '00000003']) {
      const next = client.applyCachedCredentials(invite());
      t.match(next.headers.get('Authorization'), new RegExp(`nc=${nc}`));
      t.ok((await server.verify(next, lookup)).ok, `nc ${nc} accepted`);
    }
  },
);

t.test(
  'cached credentials refused (server lost its nonce) get one fresh answer, not a rejection',
  async (t) => {
    const { server } = setup();
    const client = new DigestClient({ credentials: alice });
    await roundTrip(server, client);
    const restarted = setup({ secret: 'new-secret' }).server;
    const req = client.applyCachedCredentials(invite());
    const r = await restarted.verify(req, lookup);
    if (r.ok) return t.fail('accepted a foreign nonce');
    t.equal(r.reason, 'bad-response');
    const retry = client.authorize(req, r.response);
    t.ok(retry.ok);
    if (retry.ok) t.ok((await restarted.verify(retry.request, lookup)).ok);
  },
);

t.test('tampered nonce is refused without stale=true', async (t) => {
  const { server } = setup();
  const { request } = await roundTrip(server, new DigestClient({ credentials: alice }));
  const forged = request.clone();
  const value = forged.headers.get('Authorization') ?? '';
  forged.headers.set(
    'Authorization',
    value.replace(/nonce="(.)/, (_m, c: string) => `nonce="${c === 'A' ? 'B' : 'A'}`),
  );
  const r = await server.verify(forged, lookup);
  t.equal(r.ok === false && r.reason, 'bad-response');
  t.notMatch(r.ok === false && r.response.headers.get('WWW-Authenticate'), /stale/);
});

t.test('wrong password is refused, and the client does not retry a refused realm', async (t) => {
  const { server } = setup();
  const client = new DigestClient({ credentials: { username: 'alice', password: 'guess' } });
  const { request, result } = await roundTrip(server, client);
  t.equal(result.ok === false && result.reason, 'bad-response');
  t.equal(result.ok === false && result.response.status, 401);
  const again = client.authorize(
    request,
    result.ok === false ? result.response : (undefined as never),
  );
  t.same(again.ok === false && again.reason, 'rejected');
});

t.test('unknown user is refused with the same 401 a wrong password gets', async (t) => {
  const { server } = setup();
  const { result } = await roundTrip(
    server,
    new DigestClient({ credentials: { username: 'mallory', password: 'x' } }),
  );
  t.equal(result.ok === false && result.reason, 'unknown-user');
  t.equal(result.ok === false && result.response.status, 401);
});

t.test('a lookup that throws or resolves later is handled', async (t) => {
  const { server } = setup();
  const { request } = await roundTrip(server, new DigestClient({ credentials: alice }));
  const throwing = await server.verify(request.clone(), () => {
    throw new Error('db down');
  });
  t.equal(throwing.ok === false && throwing.reason, 'unknown-user');
  const slow: Ha1Lookup = async (u, r, a) => {
    await new Promise((res) => setImmediate(res));
    return lookup(u, r, a);
  };
  const ch = await server.verify(invite(), slow);
  const answered = ch.ok
    ? undefined
    : new DigestClient({ credentials: alice }).authorize(invite(), ch.response);
  t.ok(answered?.ok === true && (await server.verify(answered.request, slow)).ok);
});

t.test('digest-uri must match the Request-URI, with RFC 3261 §19.1.4 equivalence', async (t) => {
  const { server } = setup();
  const client = new DigestClient({ credentials: alice });
  const { request } = await roundTrip(server, client);
  const moved = request.clone();
  moved.uri = 'sip:carol@example.com';
  const r = await server.verify(moved, lookup);
  t.equal(r.ok === false && r.reason, 'uri-mismatch');
  t.equal(r.ok === false && r.response.status, 400);
  // the client answered for "sip:bob@EXAMPLE.com"; the proxy sees the same URI with a lower-case host
  const req = invite();
  req.uri = 'sip:bob@EXAMPLE.com';
  const ch = await server.verify(req, lookup);
  const ans = ch.ok ? undefined : client.authorize(req, ch.response);
  if (ans === undefined || !ans.ok) return t.fail('no answer');
  ans.request.uri = 'sip:bob@example.com';
  t.ok((await server.verify(ans.request, lookup)).ok, 'equivalent URIs match');
});

t.test(
  'credentials for another realm only: realm-mismatch with a challenge for ours',
  async (t) => {
    const { server } = setup();
    const other = setup({ realm: 'other.net' }).server;
    const { request } = await roundTrip(other, new DigestClient({ credentials: alice }));
    const r = await server.verify(request, lookup);
    t.equal(r.ok === false && r.reason, 'realm-mismatch');
    t.match(r.ok === false && r.response.headers.get('WWW-Authenticate'), /realm="example.com"/);
  },
);

t.test(
  'malformed credentials get 400; an algorithm or qop not offered gets a new challenge',
  async (t) => {
    const { server } = setup({ algorithms: ['SHA-256'] });
    const cases: [string, number][] = [
      ['Digest username="alice", realm="example.com", nonce="abc', 400],
      [
        'Digest username="alice", realm="example.com", nonce="n", uri="sip:bob@example.com", response="zz"',
        400,
      ],
      [
        'Digest username="alice", realm="example.com", nonce="n", uri="sip:bob@example.com", response="00", algorithm=SHA-1',
        401,
      ],
      [
        'Digest username="alice", realm="example.com", nonce="n", uri="sip:bob@example.com", response="00", algorithm=MD5',
        401,
      ],
      [
        'Digest username="alice", realm="example.com", nonce="n", uri="sip:bob@example.com", response="00", algorithm=SHA-256',
        401,
      ],
      [
        'Digest username="alice", realm="example.com", nonce="n", uri="sip:bob@example.com", response="00", algorithm=SHA-256, qop=auth-int, nc=00000001, cnonce="c"',
        401,
      ],
      [
        'Digest username="alice", realm="example.com", nonce="n", uri="sip:bob@example.com", response="00", algorithm=SHA-256, qop=auth, nc=00000000, cnonce="c"',
        401,
      ],
    ];
    for (const [value, status] of cases) {
      const req = invite();
      req.headers.set('Authorization', value);
      const r = await server.verify(req, lookup);
      t.equal(r.ok === false && r.reason, 'malformed', value);
      t.equal(r.ok === false && r.response.status, status, value);
    }
  },
);

t.test('a response with a foreign opaque is refused', async (t) => {
  const { server } = setup();
  const { request } = await roundTrip(server, new DigestClient({ credentials: alice }));
  const forged = request.clone();
  forged.headers.set(
    'Authorization',
    (forged.headers.get('Authorization') ?? '').replace(/opaque="[^"]*"/, 'opaque="x"'),
  );
  const r = await server.verify(forged, lookup);
  t.equal(r.ok === false && r.reason, 'bad-response');
});

t.test(
  'proxy mode: 407 with Proxy-Authenticate, answered with Proxy-Authorization, stripped before forwarding',
  async (t) => {
    const { server } = setup({ mode: 'proxy' });
    const req = invite();
    req.headers.append(
      'Proxy-Authorization',
      'Digest username="x", realm="downstream.net", nonce="n", uri="sip:bob@example.com", response="00"',
    );
    const { first, request, result } = await roundTrip(
      server,
      new DigestClient({ credentials: alice }),
      req,
    );
    t.equal(first.response.status, 407);
    t.ok(first.response.headers.has('Proxy-Authenticate'));
    t.notOk(request.headers.has('Authorization'));
    t.ok(result.ok);
    server.stripOwnCredentials(request);
    t.same(
      request.headers.getAll('Proxy-Authorization').map((v) => /realm="([^"]+)"/.exec(v)?.[1]),
      ['downstream.net'],
    );
  },
);

t.test('client: a 407 from two proxies gets one Proxy-Authorization per realm', async (t) => {
  const a = setup({ mode: 'proxy', realm: 'a.net' }).server;
  const b = setup({ mode: 'proxy', realm: 'b.net' }).server;
  const req = invite();
  const ra = await a.verify(req, lookup);
  const rb = await b.verify(req, lookup);
  if (ra.ok || rb.ok) return t.fail('accepted');
  const merged = ra.response.clone();
  for (const v of rb.response.headers.getAll('Proxy-Authenticate'))
    merged.headers.append('Proxy-Authenticate', v);
  const client = new DigestClient({
    credentials: [
      { ...alice, realm: 'a.net' },
      { ...alice, realm: 'b.net' },
    ],
  });
  const answered = client.authorize(req, merged);
  if (!answered.ok) return t.fail(answered.reason);
  t.equal(answered.request.headers.getAll('Proxy-Authorization').length, 2);
  t.ok((await a.verify(answered.request, lookup)).ok);
  t.ok((await b.verify(answered.request, lookup)).ok);
});

t.test(
  'userhash: the client sends H(user:realm) and the server resolves it (RFC 7616 §3.4.4)',
  async (t) => {
    const { server } = setup({
      algorithms: ['SHA-512-256'],
      userhashLookup: (hash, realm, algorithm) => {
        for (const [u, pw] of Object.entries(USERS)) {
          if (hash === computeUserhash(algorithm, u, realm)) {
            return { username: u, ha1: computeHa1(algorithm, u, realm, pw) };
          }
        }
        return undefined;
      },
    });
    const { first, request, result } = await roundTrip(
      server,
      new DigestClient({
        credentials: { username: 'J\u00e4s\u00f8n Doe', password: 'Secret, or not?' },
      }),
    );
    t.match(first.response.headers.get('WWW-Authenticate'), /userhash=true/);
    t.match(request.headers.get('Authorization'), /userhash=true/);
    t.notMatch(request.headers.get('Authorization'), /Doe|username\*/);
    t.same(result.ok && result.username, 'J\u00e4s\u00f8n Doe');
  },
);

t.test('RFC 2069 responses without qop are refused unless allowed', async (t) => {
  const { server } = setup({ qop: [] });
  const { result } = await roundTrip(server, new DigestClient({ credentials: alice }));
  t.equal(result.ok === false && result.reason, 'malformed');
});

t.test('client: failures are reported, never thrown', async (t) => {
  const { server } = setup({ algorithms: ['MD5'] });
  const ch = await server.verify(invite(), lookup);
  if (ch.ok) return t.fail('accepted');
  t.equal(
    ruleOut(
      new DigestClient({ credentials: alice, algorithms: ['SHA-256'] }).authorize(
        invite(),
        ch.response,
      ),
    ),
    'unsupported',
  );
  t.equal(
    ruleOut(
      new DigestClient({ credentials: { ...alice, realm: 'x' } }).authorize(invite(), ch.response),
    ),
    'no-credentials',
  );
  t.equal(
    ruleOut(new DigestClient({ credentials: alice }).authorize(invite(), invite() as never)),
    'no-challenge',
  );
  const ack = invite();
  ack.method = 'ACK';
  t.equal(
    ruleOut(new DigestClient({ credentials: alice }).authorize(ack, ch.response)),
    'not-retryable',
  );
  const garbage = ch.response.clone();
  garbage.headers.set('WWW-Authenticate', ['Digest realm="x', 'Basic realm="y"', 'Digest nonce=1']);
  t.equal(
    ruleOut(new DigestClient({ credentials: alice }).authorize(invite(), garbage)),
    'no-challenge',
  );
  t.equal(
    ruleOut(
      new DigestClient({
        credentials: (realm) => (realm === 'example.com' ? alice : undefined),
      }).authorize(invite(), ch.response),
    ),
    undefined,
  );
});

t.test('replay tracking memory stays bounded under many authenticated nonces', async (t) => {
  const { server, clock } = setup({ maxTrackedNonces: 50 });
  for (let i = 0; i < 200; i++) {
    clock.advance(1); // nonces minted in the same millisecond as an evicted one are answered stale
    const { result } = await roundTrip(server, new DigestClient({ credentials: alice }));
    if (!result.ok) return t.fail(`round ${i}: ${result.reason}`);
  }
  t.pass('200 nonces verified with 50 tracked');
});

function ruleOut(r: ReturnType<DigestClient['authorize']>): string | undefined {
  return r.ok ? undefined : r.reason;
}

t.test('client: a challenge repeating the same nonce continues its nonce-count', async (t) => {
  const { server } = setup();
  const client = new DigestClient({ credentials: alice });
  const ch = await server.verify(invite(), lookup);
  if (ch.ok) return t.fail('accepted');
  const first = client.authorize(invite(), ch.response);
  const second = client.authorize(invite(), ch.response);
  t.match(first.ok && first.request.headers.get('Authorization'), /nc=00000001/);
  t.match(second.ok && second.request.headers.get('Authorization'), /nc=00000002/);
  t.ok(second.ok && (await server.verify(second.request, lookup)).ok);
});

t.test('server: configuration errors are typed', (t) => {
  t.throws(() => new DigestServer({ realm: 'r', algorithms: [] }), { code: 'SIP_ERR_AUTH_CONFIG' });
  t.throws(() => new DigestServer({ realm: 'r', secret: [] }), { code: 'SIP_ERR_AUTH_CONFIG' });
  t.end();
});
