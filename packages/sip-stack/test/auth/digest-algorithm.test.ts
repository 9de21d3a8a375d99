import { createHash } from 'node:crypto';
import t from 'tap';
import {
  computeDigestResponse,
  computeHa1,
  computeUserhash,
  digestEquals,
  digestHash,
  parseDigestAlgorithm,
} from '../../src/auth/digest-algorithm.js';

t.test('SHA-512-256 is the FIPS 180-4 algorithm with its own IV, not a truncated SHA-512', (t) => {
  // FIPS 180-4 / NIST CSRC example "abc" for SHA-512/256
  t.equal(
    digestHash('SHA-512-256', 'abc'),
    '53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23',
  );
  t.not(
    digestHash('SHA-512-256', 'abc'),
    createHash('sha512').update('abc').digest('hex').slice(0, 64),
  );
  t.end();
});

t.test('RFC 2617 §3.5 example: MD5, qop=auth, "Mufasa" / "Circle Of Life"', (t) => {
  const ha1 = computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
  const response = computeDigestResponse({
    algorithm: 'MD5',
    ha1,
    nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
    cnonce: '0a4f113b',
    nc: '00000001',
    qop: 'auth',
    method: 'GET',
    uri: '/dir/index.html',
  });
  t.equal(response, '6629fae49393a05397450978507c4ef1');
  t.end();
});

const rfc7616 = {
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  nc: '00000001',
  qop: 'auth',
  method: 'GET',
  uri: '/dir/index.html',
} as const;

t.test('RFC 7616 §3.9.1 example: SHA-256 response for "Mufasa"', (t) => {
  const ha1 = computeHa1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
  t.equal(
    computeDigestResponse({ ...rfc7616, algorithm: 'SHA-256', ha1 }),
    '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
  );
  t.end();
});

t.test('RFC 7616 §3.9.1 example: MD5 response for "Mufasa"', (t) => {
  const ha1 = computeHa1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
  t.equal(
    computeDigestResponse({ ...rfc7616, algorithm: 'MD5', ha1 }),
    '8ca523f5e9506fed4657c9700eebdbec',
  );
  t.end();
});

t.test(
  'RFC 7616 §3.9.2 userhash example with SHA-512-256 (values as corrected by erratum 4897)',
  (t) => {
    // The printed RFC values were computed wrongly; erratum 4897 gives these, UTF-8 username "Jäsøn Doe".
    const username = 'J\u00e4s\u00f8n Doe';
    const realm = 'api@example.org';
    t.equal(
      computeUserhash('SHA-512-256', username, realm),
      '793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b',
    );
    const ha1 = computeHa1('SHA-512-256', username, realm, 'Secret, or not?');
    const response = computeDigestResponse({
      algorithm: 'SHA-512-256',
      ha1,
      nonce: '5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK',
      cnonce: 'NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v',
      nc: '00000001',
      qop: 'auth',
      method: 'GET',
      uri: '/doe.json',
    });
    t.equal(response, '3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5');
    t.end();
  },
);

t.test('RFC 2069 form (no qop) is H(HA1:nonce:HA2)', (t) => {
  // RFC 2617 §3.5 challenge values with the RFC 2069 computation, checked by hand-built strings.
  const ha1 = computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
  const ha2 = createHash('md5').update('GET:/dir/index.html').digest('hex');
  const expected = createHash('md5')
    .update(`${ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:${ha2}`)
    .digest('hex');
  t.equal(
    computeDigestResponse({
      algorithm: 'MD5',
      ha1,
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
    }),
    expected,
  );
  t.end();
});

t.test('-sess algorithms derive HA1 from the base HA1, nonce and cnonce (RFC 7616 §3.4.2)', (t) => {
  const base = computeHa1('SHA-256-sess', 'alice', 'example.com', 'pw');
  t.equal(
    base,
    computeHa1('SHA-256', 'alice', 'example.com', 'pw'),
    'computeHa1 returns the base HA1 for -sess',
  );
  const sessHa1 = createHash('sha256').update(`${base}:n1:c1`).digest('hex');
  const ha2 = createHash('sha256').update('REGISTER:sip:example.com').digest('hex');
  const expected = createHash('sha256')
    .update(`${sessHa1}:n1:00000001:c1:auth:${ha2}`)
    .digest('hex');
  const got = computeDigestResponse({
    algorithm: 'SHA-256-sess',
    ha1: base,
    nonce: 'n1',
    cnonce: 'c1',
    nc: '00000001',
    qop: 'auth',
    method: 'REGISTER',
    uri: 'sip:example.com',
  });
  t.equal(got, expected);
  t.end();
});

t.test('auth-int hashes method, uri and H(body) into HA2 (RFC 7616 §3.4.3)', (t) => {
  const ha1 = computeHa1('MD5', 'bob', 'r', 'p');
  const bodyHash = digestHash('MD5', Buffer.from('v=0\r\n'));
  const ha2 = createHash('md5').update(`INVITE:sip:bob@r:${bodyHash}`).digest('hex');
  const expected = createHash('md5').update(`${ha1}:n:00000002:c:auth-int:${ha2}`).digest('hex');
  const p = {
    algorithm: 'MD5',
    ha1,
    nonce: 'n',
    cnonce: 'c',
    nc: '00000002',
    method: 'INVITE',
    uri: 'sip:bob@r',
  } as const;
  t.equal(computeDigestResponse({ ...p, qop: 'auth-int', bodyHash }), expected);
  t.not(
    computeDigestResponse({ ...p, qop: 'auth-int', bodyHash: digestHash('MD5', 'other') }),
    expected,
  );
  t.end();
});

t.test('algorithm tokens are case-insensitive and unknown ones are rejected', (t) => {
  t.equal(parseDigestAlgorithm('sha-512-256-SESS'), 'SHA-512-256-sess');
  t.equal(parseDigestAlgorithm('md5'), 'MD5');
  t.equal(parseDigestAlgorithm('SHA-1'), undefined);
  t.equal(parseDigestAlgorithm('AKAv1-MD5'), undefined);
  t.end();
});

t.test('digestEquals compares hex case-insensitively and rejects other lengths', (t) => {
  t.ok(digestEquals('ABCDEF', 'abcdef'));
  t.notOk(digestEquals('abcdef', 'abcde0'));
  t.notOk(digestEquals('abcdef', 'abcdef00'));
  t.end();
});

t.test('digestEquals: characters outside ASCII never stand for a hex digit', (t) => {
  t.notOk(digestEquals('a', '\u0161'), 'U+0161 is not "a" (its low byte is)');
  t.notOk(digestEquals('0', '\u0130'));
  t.ok(digestEquals('0f', '0F'), 'ASCII hex letters still fold');
  t.end();
});

t.test('the same method and uri give each algorithm its own response (H(A2) per family)', (t) => {
  const ha2 = (alg: string): string =>
    createHash(alg).update(`${rfc7616.method}:${rfc7616.uri}`).digest('hex');
  for (const [algorithm, node] of [
    ['MD5', 'md5'],
    ['SHA-256', 'sha256'],
    ['SHA-512-256', 'sha512-256'],
    ['MD5', 'md5'],
  ] as const) {
    const ha1 = computeHa1(algorithm, 'Mufasa', 'http-auth@example.org', 'Circle of Life');
    const expected = createHash(node)
      .update(`${ha1}:${rfc7616.nonce}:00000001:${rfc7616.cnonce}:auth:${ha2(node)}`)
      .digest('hex');
    t.equal(computeDigestResponse({ ...rfc7616, algorithm, ha1 }), expected, algorithm);
  }
  t.end();
});
