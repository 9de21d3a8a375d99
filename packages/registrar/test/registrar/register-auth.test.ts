/** Digest authentication of REGISTER (RFC 3261 §10.3 steps 3–4, §22) over real UDP and TCP. */
import t from 'tap';
import {
  DigestClient,
  DigestServer,
  parseDigestChallenge,
  parseMessage,
  type SipRequest,
} from '@switchboard/sip-stack';
import { DigestRegistrarAuthenticator, type RegistrarAuthenticator } from '../../src/index.js';
import {
  listed,
  recordEvents,
  register,
  startRegistrar,
  startUa,
  uaContact,
} from '../support/registrar-harness.js';

const PASSWORDS: Record<string, string> = { '1001': 'one-secret', '1002': 'two-secret' };

function digestAuth(): DigestRegistrarAuthenticator {
  return new DigestRegistrarAuthenticator({
    credentials: (username) => {
      const password = PASSWORDS[username];
      return password === undefined ? undefined : { password };
    },
    digestOptions: { algorithms: ['SHA-256', 'MD5'] },
  });
}

for (const protocol of ['udp', 'tcp'] as const) {
  t.test(
    `${protocol}: REGISTER without credentials is challenged with 401 and WWW-Authenticate for the domain realm`,
    async (t) => {
      const h = await startRegistrar(t, { authenticator: digestAuth() });
      const ua = await startUa(t, protocol);
      const res = await register(h, ua, { user: '1002', expires: 600 });
      t.equal(res.status, 401);
      const challenges = res.headers.getAll('WWW-Authenticate');
      t.ok(challenges.length >= 1);
      const first = parseDigestChallenge(challenges[0] ?? '');
      t.ok(first.ok && first.value.realm === 'a.example');
      t.same(await h.registrar.lookup('1002@a.example'), []);
    },
  );

  t.test(
    `${protocol}: the right password registers after one challenge and the binding carries the identity`,
    async (t) => {
      const h = await startRegistrar(t, { authenticator: digestAuth() });
      const ua = await startUa(t, protocol);
      const registered = recordEvents(h.registrar, 'registered');
      const res = await register(h, ua, {
        user: '1002',
        expires: 600,
        credentials: { username: '1002', password: 'two-secret' },
      });
      t.equal(res.status, 200);
      t.same(listed(res), [[uaContact(ua, '1002'), 600]]);
      t.same(registered[0]?.[0].identity, { username: '1002', realm: 'a.example' });
    },
  );
}

t.test('a wrong password gets a new challenge, never a binding', async (t) => {
  const h = await startRegistrar(t, { authenticator: digestAuth() });
  const ua = await startUa(t);
  const res = await register(h, ua, {
    user: '1002',
    expires: 600,
    credentials: { username: '1002', password: 'wrong' },
  });
  t.equal(res.status, 401);
  t.same(await h.registrar.lookup('1002@a.example'), []);
});

t.test('an unknown user gets a challenge (no user probing)', async (t) => {
  const h = await startRegistrar(t, { authenticator: digestAuth() });
  const ua = await startUa(t);
  const res = await register(h, ua, {
    user: '1009',
    expires: 600,
    credentials: { username: '1009', password: 'x' },
  });
  t.equal(res.status, 401);
});

t.test('an authenticated user may not register another AOR: 403 (§10.3 step 4)', async (t) => {
  const h = await startRegistrar(t, { authenticator: digestAuth() });
  const ua = await startUa(t);
  const res = await register(h, ua, {
    user: '1002',
    expires: 600,
    credentials: { username: '1001', password: 'one-secret' },
  });
  t.equal(res.status, 403);
  t.same(await h.registrar.lookup('1002@a.example'), []);
});

t.test(
  'a custom authenticator decides with a status of its own and its authorize rule',
  async (t) => {
    const seen: SipRequest[] = [];
    const auth: RegistrarAuthenticator = {
      authenticate: (request) => {
        seen.push(request);
        return Promise.resolve(
          request.headers.get('X-Token') === 'good'
            ? { ok: true, identity: { username: 'admin', attributes: { accountId: 'acc-1' } } }
            : { ok: false, status: 403, reason: 'Bad Token' },
        );
      },
      authorize: (identity) => identity.username === 'admin',
    };
    const h = await startRegistrar(t, { authenticator: auth });
    const ua = await startUa(t);
    const denied = await register(h, ua, {
      user: '1002',
      expires: 600,
      headers: { 'X-Token': 'bad' },
    });
    t.equal(denied.status, 403);
    t.equal(denied.reason, 'Bad Token');
    const ok = await register(h, ua, {
      user: '1002',
      expires: 600,
      headers: { 'X-Token': 'good' },
      callId: 'n',
    });
    t.equal(ok.status, 200);
    t.same((await h.registrar.lookup('1002@a.example'))[0]?.identity?.attributes, {
      accountId: 'acc-1',
    });
    t.equal(seen.length, 2);
  },
);

t.test('a stale nonce gets a fresh challenge with stale=true', async (t) => {
  let now = 1_000_000;
  const digest = new DigestServer({
    realm: 'a.example',
    algorithms: ['MD5'],
    nonceTtlMs: 1000,
    clock: { now: () => now },
  });
  const auth = new DigestRegistrarAuthenticator({
    credentials: () => ({ password: 'two-secret' }),
    digest,
  });
  const h = await startRegistrar(t, { authenticator: auth });
  const first = parseMessage(
    Buffer.from(
      'REGISTER sip:a.example SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK1\r\nFrom: <sip:1002@a.example>;tag=1\r\n' +
        'To: <sip:1002@a.example>\r\nCall-ID: s1\r\nCSeq: 1 REGISTER\r\nContact: <sip:1002@127.0.0.1:5999>\r\nContent-Length: 0\r\n\r\n',
    ),
  );
  if (!first.ok || first.message.kind !== 'request') throw new Error('fixture did not parse');
  const flow = {
    protocol: 'udp' as const,
    local: { address: '127.0.0.1', port: 5060 },
    remote: { address: '127.0.0.1', port: 5999 },
  };
  const challenge = await h.registrar.handle(first.message, flow);
  t.equal(challenge.status, 401);
  const client = new DigestClient({ credentials: { username: '1002', password: 'two-secret' } });
  const retry = client.authorize(first.message, challenge, {
    username: '1002',
    password: 'two-secret',
  });
  if (!retry.ok) throw new Error('client did not answer the challenge');
  now += 5000;
  const stale = await h.registrar.handle(retry.request, flow);
  t.equal(stale.status, 401);
  t.match(stale.headers.get('WWW-Authenticate') ?? '', /stale=true/i);
});
