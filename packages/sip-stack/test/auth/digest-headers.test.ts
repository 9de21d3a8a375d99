import t from 'tap';
import { formatDigestChallenge, parseDigestChallenge } from '../../src/auth/digest-challenge.js';
import {
  formatDigestCredentials,
  parseDigestCredentials,
} from '../../src/auth/digest-credentials.js';
import { parseAuthParams } from '../../src/auth/parse-auth-params.js';

t.test(
  'auth-params: quoted strings with escapes, tokens, case-insensitive names, folded whitespace',
  (t) => {
    const r = parseAuthParams(
      'Digest  REALM="a \\"b\\" c\\\\", Nonce=xyz,\r\n\tqop="auth,auth-int" ,algorithm = SHA-256',
    );
    if (!r.ok) return t.fail(r.reason);
    t.equal(r.value.scheme, 'Digest');
    t.same(r.value.params.get('realm'), { value: 'a "b" c\\', quoted: true });
    t.same(r.value.params.get('nonce'), { value: 'xyz', quoted: false });
    t.equal(r.value.params.get('qop')?.value, 'auth,auth-int');
    t.equal(r.value.params.get('algorithm')?.value, 'SHA-256');
    t.end();
  },
);

t.test(
  'auth-params: duplicates, missing "=", unterminated quotes and junk are errors, never throws',
  (t) => {
    const bad = [
      'Digest realm="a", Realm="b"',
      'Digest realm',
      'Digest realm="abc',
      'Digest realm="a" nonce="b"',
      'Digest realm="a\\',
      '',
      '   ',
      '"Digest"',
      'Digest =x',
      'Digest realm=',
      'Dig\u0000est realm=a',
    ];
    for (const v of bad) t.notOk(parseAuthParams(v).ok, JSON.stringify(v));
    t.ok(parseAuthParams('Digest').ok, 'a scheme without params parses');
    t.ok(parseAuthParams('Digest realm=a,, nonce=b,').ok, 'empty list elements are tolerated');
    t.notOk(parseAuthParams(undefined as unknown as string).ok, 'non-string input');
    t.end();
  },
);

t.test('credentials: RFC 7616 §3.9.1 Authorization parses to its fields', (t) => {
  const v =
    'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, ' +
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, ' +
    'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, ' +
    'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", ' +
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
  const r = parseDigestCredentials(v);
  if (!r.ok) return t.fail(r.reason);
  t.match(r.value, {
    username: 'Mufasa',
    realm: 'http-auth@example.org',
    uri: '/dir/index.html',
    algorithm: 'SHA-256',
    nc: '00000001',
    qop: 'auth',
    opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  });
  t.end();
});

t.test('credentials: algorithm defaults to MD5; username* is decoded (RFC 7616 §3.4.4)', (t) => {
  const r = parseDigestCredentials(
    'Digest username*=UTF-8\'\'J%C3%A4s%C3%B8n%20Doe, realm="api@example.org", nonce="n", uri="/doe.json", response="abcd"',
  );
  if (!r.ok) return t.fail(r.reason);
  t.equal(r.value.username, 'J\u00e4s\u00f8n Doe');
  t.equal(r.value.algorithm, 'MD5');
  t.equal(r.value.qop, undefined);
  t.end();
});

t.test(
  'credentials: missing fields, qop without nc/cnonce, bad nc, unknown algorithm and other schemes fail',
  (t) => {
    const base = 'realm="r", nonce="n", uri="sip:a@b", response="00ff"';
    const cases: Record<string, string> = {
      'no username': `Digest ${base}`,
      'no response': 'Digest username="u", realm="r", nonce="n", uri="sip:a@b"',
      'qop without nc': `Digest username="u", ${base}, qop=auth, cnonce="c"`,
      'short nc': `Digest username="u", ${base}, qop=auth, cnonce="c", nc=0001`,
      'unknown qop': `Digest username="u", ${base}, qop=auth-conf, cnonce="c", nc=00000001`,
      'unknown algorithm': `Digest username="u", ${base}, algorithm=SHA-1`,
      'non-hex response': 'Digest username="u", realm="r", nonce="n", uri="sip:a@b", response="zz"',
      'both usernames': `Digest username="u", username*=UTF-8''u, ${base}`,
      'basic scheme': 'Basic dXNlcjpwYXNz',
      duplicate: `Digest username="u", ${base}, nonce="m"`,
    };
    for (const [name, v] of Object.entries(cases)) t.notOk(parseDigestCredentials(v).ok, name);
    t.end();
  },
);

t.test(
  'credentials: format then parse gives the same credentials, with escaping and username*',
  (t) => {
    const cred = {
      username: 'al"ice\\',
      realm: 'example.com',
      nonce: 'abc',
      uri: 'sip:bob@example.com;transport=tcp',
      response: '0123456789abcdef0123456789abcdef',
      algorithm: 'MD5-sess',
      cnonce: 'c1',
      nc: '0000000a',
      qop: 'auth-int',
      opaque: 'op',
    } as const;
    const text = formatDigestCredentials(cred);
    t.match(text, /algorithm=MD5-sess/);
    t.match(text, /qop=auth-int, nc=0000000a/);
    const back = parseDigestCredentials(text);
    t.same(back.ok && back.value, cred);
    const intl = formatDigestCredentials({ ...cred, username: 'J\u00e4s\u00f8n Doe' });
    t.match(intl, /username\*=UTF-8''J%C3%A4s%C3%B8n%20Doe/);
    const back2 = parseDigestCredentials(intl);
    t.equal(back2.ok && back2.value.username, 'J\u00e4s\u00f8n Doe');
    t.end();
  },
);

t.test('challenge: RFC 7616 §3.9.2 header parses; unknown qop options are dropped', (t) => {
  const r = parseDigestChallenge(
    'Digest realm="api@example.org", qop="auth, auth-conf", algorithm=SHA-512-256, ' +
      'nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", ' +
      'charset=UTF-8, userhash=true',
  );
  if (!r.ok) return t.fail(r.reason);
  t.match(r.value, {
    realm: 'api@example.org',
    algorithm: 'SHA-512-256',
    userhash: true,
    stale: false,
    qop: ['auth'],
  });
  t.end();
});

t.test(
  'challenge: stale=TRUE is case-insensitive; no algorithm means MD5; no qop stays undefined',
  (t) => {
    const r = parseDigestChallenge('Digest realm="r", nonce="n", stale=TRUE');
    if (!r.ok) return t.fail(r.reason);
    t.equal(r.value.stale, true);
    t.equal(r.value.algorithm, 'MD5');
    t.equal(r.value.qop, undefined);
    t.notOk(parseDigestChallenge('Digest realm="r"').ok, 'nonce is required');
    t.notOk(
      parseDigestChallenge('Digest realm="r", nonce="n", algorithm=AKAv1-MD5').ok,
      'unknown algorithm',
    );
    t.end();
  },
);

t.test('challenge: format then parse round-trips', (t) => {
  const c = {
    realm: 'sip.example.com',
    nonce: 'abc',
    algorithm: 'SHA-256',
    qop: ['auth', 'auth-int'],
    opaque: 'o',
    stale: true,
    userhash: false,
  } as const;
  const text = formatDigestChallenge({ ...c, qop: [...c.qop] });
  t.equal(
    text,
    'Digest realm="sip.example.com", nonce="abc", opaque="o", stale=true, algorithm=SHA-256, qop="auth,auth-int"',
  );
  const back = parseDigestChallenge(text);
  t.same(back.ok && back.value, c);
  t.end();
});

t.test('auth-params: non-ASCII text in quoted and bare values is kept as written', (t) => {
  const r = parseAuthParams('Digest realm="Zürich € \\"x\\"", username=Jürgen€,nonce="n"');
  if (!r.ok) return t.fail(r.reason);
  t.same(r.value.params.get('realm'), { value: 'Zürich € "x"', quoted: true });
  t.same(r.value.params.get('username'), { value: 'Jürgen€', quoted: false });
  t.equal(r.value.params.get('nonce')?.value, 'n');
  t.notOk(parseAuthParams('Digest réalm="a"').ok, 'a parameter name is a token (ASCII)');
  t.end();
});
