/** SIPp registers with digest against `switchboard start`: success, wrong password, unknown user, stale nonce. */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { computeDigestResponse, computeHa1, parseDigestCredentials } from '@switchboard/sip-stack';
import { DOMAIN, startE2eServer, type E2eServer } from './support/e2e-server.js';
import { freePort } from './support/free-port.js';
import { countOf, explain, runSipp, type SippOptions } from './support/sipp.js';

/** SIPp runs a REGISTER scenario from a fresh port against the server's `transport` port. */
function registrar(fx: E2eServer) {
  return async (
    scenario: string,
    user: string,
    pass: string,
    transport: 'udp' | 'tcp' = 'udp',
    vars: Record<string, string> = {},
  ) => {
    const port = await freePort();
    const o: SippOptions = {
      scenario,
      remote: `127.0.0.1:${fx.ports[transport]}`,
      transport,
      localPort: port,
      vars: {
        user,
        domain: DOMAIN,
        contact_port: String(port),
        contact_transport: transport,
        ...vars,
      },
      auth: { user, password: pass, uri: `sip:${DOMAIN}` },
      timeoutMs: 10_000,
    };
    return { port, result: await runSipp(o) };
  };
}

/**
 * Credentials for the nonce of an earlier Authorization with nonce-count `nc` (RFC 7616 §3.4:
 * a client may reuse a nonce with the next count) and a fresh cnonce.
 */
function reuseNonce(previous: string, user: string, password: string, nc: number): string {
  const parsed = parseDigestCredentials(previous);
  if (!parsed.ok) throw new Error(`bad Authorization: ${previous}`);
  const c = parsed.value;
  const ha1 = computeHa1(c.algorithm, user, c.realm, password);
  const count = nc.toString(16).padStart(8, '0');
  const cnonce = randomBytes(8).toString('hex');
  const qop = c.qop === undefined ? {} : { qop: c.qop, nc: count, cnonce };
  const response = computeDigestResponse({
    algorithm: c.algorithm,
    ha1,
    nonce: c.nonce,
    method: 'REGISTER',
    uri: c.uri,
    ...qop,
  });
  const params = [
    `username="${user}"`,
    `realm="${c.realm}"`,
    `nonce="${c.nonce}"`,
    `uri="${c.uri}"`,
    `response="${response}"`,
    `algorithm=${c.algorithm}`,
    ...(c.qop === undefined ? [] : [`qop=${c.qop}`, `nc=${count}`, `cnonce="${cnonce}"`]),
    ...(c.opaque === undefined ? [] : [`opaque="${c.opaque}"`]),
  ];
  return `Digest ${params.join(',')}`;
}

const authorizationOf = (messages: string): string | undefined =>
  /^Authorization: (Digest .*)$/m.exec(messages)?.[1]?.trim();

t.test('SIPp REGISTER with digest against the edge registrar', async (t) => {
  const fx = await startE2eServer();
  t.teardown(() => fx.close());
  const password = fx.passwords['1001'];
  if (password === undefined) throw new Error('demo credentials not printed');
  const register = registrar(fx);

  await t.test('the right password: 401 then 200, and the binding is stored', async (t) => {
    const { port, result } = await register('register.xml', '1001', password);
    t.equal(result.exitCode, 0, explain(result));
    t.equal(result.successful, 1, 'one successful registration');
    t.equal(countOf(result, 'received', '401'), 1, 'challenged once');
    t.equal(countOf(result, 'received', '200'), 1, 'then accepted');
    const bindings = await fx.node.registrar.lookup(`sip:1001@${DOMAIN}`);
    t.ok(
      bindings.some((b) => b.uri.includes(`127.0.0.1:${port}`)),
      'the Contact is bound to 1001',
    );
  });

  await t.test('over TCP: 401 then 200', async (t) => {
    const { result } = await register('register.xml', '1001', password, 'tcp');
    t.equal(result.exitCode, 0, explain(result));
    t.equal(countOf(result, 'received', '200'), 1);
  });

  await t.test('a wrong password is challenged again with 401, not stale', async (t) => {
    const { result } = await register('register-wrong-password.xml', '1002', 'not-the-password');
    t.equal(result.exitCode, 0, explain(result));
    t.equal(countOf(result, 'received', '401'), 2, 'both attempts answered 401');
    t.same(await fx.node.registrar.lookup(`sip:1002@${DOMAIN}`), [], 'nothing bound for 1002');
  });

  await t.test('a device the directory does not know is refused with 403', async (t) => {
    const { result } = await register('register-unknown-user.xml', '1999', 'whatever-pass');
    t.equal(result.exitCode, 0, explain(result));
    t.equal(countOf(result, 'received', '403'), 1);
  });

  await t.test(
    'credentials replayed with a used nonce-count get 401 stale=true, then 200 with the fresh nonce',
    async (t) => {
      const first = await register('register.xml', '1001', password);
      t.equal(first.result.exitCode, 0, explain(first.result));
      const authz = authorizationOf(first.result.messages);
      if (authz === undefined) throw new Error('no Authorization in the first run');
      const { result } = await register('register-stale.xml', '1001', password, 'udp', { authz });
      t.equal(result.exitCode, 0, explain(result));
      t.equal(countOf(result, 'received', '401'), 1, 'the replay was challenged');
      t.match(result.messages, /WWW-Authenticate:[^\r\n]*stale=true/i, 'with stale=true');
      t.equal(countOf(result, 'received', '200'), 1, 'the retry with the fresh nonce registered');
    },
  );
});

t.test(
  'an expired nonce (sip.nonce_ttl_sec) gets 401 stale=true, then 200 with a fresh one',
  async (t) => {
    const ttlSec = 1;
    const fx = await startE2eServer({ nonceTtlSec: ttlSec });
    t.teardown(() => fx.close());
    const password = fx.passwords['1001'];
    if (password === undefined) throw new Error('demo credentials not printed');
    const register = registrar(fx);
    const first = await register('register.xml', '1001', password);
    t.equal(first.result.exitCode, 0, explain(first.result));
    const authz = authorizationOf(first.result.messages);
    if (authz === undefined) throw new Error('no Authorization in the first run');

    // While the nonce lives, the next nonce-count with it is accepted without a challenge.
    const reused = await register('register-authz.xml', '1001', password, 'udp', {
      authz: reuseNonce(authz, '1001', password, 2),
    });
    t.equal(reused.result.exitCode, 0, explain(reused.result));
    t.equal(countOf(reused.result, 'received', '401'), 0, 'a live nonce is not challenged');

    await new Promise((resolve) => setTimeout(resolve, (ttlSec + 1.5) * 1000));
    const { result } = await register('register-stale.xml', '1001', password, 'udp', {
      authz: reuseNonce(authz, '1001', password, 3),
    });
    t.equal(result.exitCode, 0, explain(result));
    t.equal(countOf(result, 'received', '401'), 1, 'the expired nonce was challenged');
    t.match(result.messages, /WWW-Authenticate:[^\r\n]*stale=true/i, 'with stale=true');
    t.equal(countOf(result, 'received', '200'), 1, 'the retry with the fresh nonce registered');
  },
);
