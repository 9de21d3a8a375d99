/** RFC 3261 §10.3 over real UDP on loopback: a UA registers to the registrar. */
import t from 'tap';
import { StaticAorPolicy } from '../../src/index.js';
import {
  keys,
  listed,
  nextEvent,
  recordEvents,
  register,
  startRegistrar,
  startUa,
  uaContact,
} from '../support/registrar-harness.js';

t.test(
  'REGISTER adds a binding; the 200 lists it with its expiry and carries a Date (§10.3 step 8)',
  async (t) => {
    const h = await startRegistrar(t);
    const ua = await startUa(t);
    const registered = recordEvents(h.registrar, 'registered');
    const res = await register(h, ua, { user: '1002', expires: 600 });
    t.equal(res.status, 200);
    t.same(listed(res), [[uaContact(ua, '1002'), 600]]);
    t.equal(res.headers.get('Date'), 'Thu, 02 Jan 2025 03:04:05 GMT');
    const [b] = await h.registrar.lookup('sip:1002@a.example');
    t.equal(b?.uri, uaContact(ua, '1002'));
    t.equal(b?.expiresAt, h.clock.now() + 600_000);
    t.equal(registered.length, 1);
    t.equal(registered[0]?.[0].aor, '1002@a.example');
  },
);

t.test(
  'without Expires the default applies; the Contact expires param overrides the Expires header',
  async (t) => {
    const h = await startRegistrar(t, { defaultExpires: 1800 });
    const ua = await startUa(t);
    const res = await register(h, ua, {
      user: '1002',
      contacts: ['<sip:1002@127.0.0.1:5071>', '<sip:1002@127.0.0.1:5072>;expires=120'],
    });
    t.same(listed(res).sort(), [
      ['sip:1002@127.0.0.1:5071', 1800],
      ['sip:1002@127.0.0.1:5072', 120],
    ]);
    const res2 = await register(h, ua, {
      user: '1003',
      expires: 300,
      contacts: ['<sip:1003@127.0.0.1:5073>;expires=90'],
    });
    t.same(listed(res2), [['sip:1003@127.0.0.1:5073', 90]]);
  },
);

t.test(
  'an expiry below Min-Expires gets 423 with Min-Expires; one above the maximum is shortened',
  async (t) => {
    const h = await startRegistrar(t, { minExpires: 60, maxExpires: 7200 });
    const ua = await startUa(t);
    const brief = await register(h, ua, { user: '1002', expires: 30 });
    t.equal(brief.status, 423);
    t.equal(brief.headers.get('Min-Expires'), '60');
    t.same(await h.registrar.lookup('1002@a.example'), [], 'nothing registered');
    const long = await register(h, ua, { user: '1002', expires: 100_000 });
    t.equal(long.status, 200);
    t.same(listed(long), [[uaContact(ua, '1002'), 7200]]);
  },
);

t.test('several contacts are bound at once and ordered by q; the 200 keeps their q', async (t) => {
  const h = await startRegistrar(t);
  const ua = await startUa(t);
  const res = await register(h, ua, {
    user: '1002',
    expires: 600,
    contacts: [
      '<sip:1002@127.0.0.1:5071>;q=0.2',
      '<sip:1002@127.0.0.1:5072>;q=0.9',
      '<sip:1002@127.0.0.1:5073>',
    ],
  });
  t.equal(res.status, 200);
  t.same(
    res.contacts.map((c) => c.q),
    [undefined, 0.9, 0.2],
    'listed highest q first (no q counts as 1.0)',
  );
  const found = await h.registrar.lookup('1002@a.example');
  t.same(
    found.map((b) => b.uri),
    ['sip:1002@127.0.0.1:5073', 'sip:1002@127.0.0.1:5072', 'sip:1002@127.0.0.1:5071'],
  );
});

t.test('a refresh keeps one binding and is reported as refreshed', async (t) => {
  const h = await startRegistrar(t);
  const ua = await startUa(t);
  await register(h, ua, { user: '1002', expires: 600, callId: 'reg-1', cseq: 1 });
  h.clock.advance(300_000);
  const refreshed = nextEvent(h.registrar, 'refreshed');
  const res = await register(h, ua, { user: '1002', expires: 600, callId: 'reg-1', cseq: 2 });
  t.same(listed(res), [[uaContact(ua, '1002'), 600]]);
  const [b, prev] = await refreshed;
  t.equal(b.cseq, 2);
  t.equal(prev.cseq, 1);
  t.equal(b.registeredAt, prev.registeredAt);
  t.equal((await h.registrar.lookup('1002@a.example')).length, 1);
});

t.test('Expires: 0 on one contact removes only that binding', async (t) => {
  const h = await startRegistrar(t);
  const ua = await startUa(t);
  const two = ['<sip:1002@127.0.0.1:5071>', '<sip:1002@127.0.0.1:5072>'];
  await register(h, ua, { user: '1002', expires: 600, contacts: two, callId: 'r', cseq: 1 });
  const unregistered = recordEvents(h.registrar, 'unregistered');
  const res = await register(h, ua, {
    user: '1002',
    contacts: ['<sip:1002@127.0.0.1:5071>;expires=0'],
    callId: 'r',
    cseq: 2,
  });
  t.equal(res.status, 200);
  t.same(listed(res), [['sip:1002@127.0.0.1:5072', 600]]);
  t.same(
    unregistered.map(([b, why]) => [b.uri, why]),
    [['sip:1002@127.0.0.1:5071', 'unregistered']],
  );
});

t.test(
  'Contact: * with Expires: 0 removes every binding; otherwise it is a 400 (§10.3 step 6)',
  async (t) => {
    const h = await startRegistrar(t);
    const ua = await startUa(t);
    await register(h, ua, {
      user: '1002',
      expires: 600,
      contacts: ['<sip:1002@127.0.0.1:5071>', '<sip:1002@127.0.0.1:5072>'],
    });
    const bad1 = await register(h, ua, { user: '1002', contacts: ['*'], expires: 60, callId: 'x' });
    t.equal(bad1.status, 400);
    const bad2 = await register(h, ua, {
      user: '1002',
      contacts: ['*', '<sip:1002@127.0.0.1:5073>'],
      expires: 0,
      callId: 'y',
    });
    t.equal(bad2.status, 400);
    const bad3 = await register(h, ua, { user: '1002', contacts: ['*'], callId: 'z' });
    t.equal(bad3.status, 400, 'no Expires at all is not zero');
    t.equal((await h.registrar.lookup('1002@a.example')).length, 2);
    const ok = await register(h, ua, { user: '1002', contacts: ['*'], expires: 0, callId: 'w' });
    t.equal(ok.status, 200);
    t.same(listed(ok), []);
    t.same(await h.registrar.lookup('1002@a.example'), []);
  },
);

t.test(
  'the same Call-ID with a CSeq not higher fails with 500 and changes nothing; another Call-ID may (§10.3 step 7)',
  async (t) => {
    const h = await startRegistrar(t);
    const ua = await startUa(t);
    t.equal(
      (await register(h, ua, { user: '1002', expires: 600, callId: 'c1', cseq: 5 })).status,
      200,
    );
    const equal = await register(h, ua, { user: '1002', expires: 0, callId: 'c1', cseq: 5 });
    t.equal(equal.status, 500);
    const lower = await register(h, ua, { user: '1002', expires: 0, callId: 'c1', cseq: 4 });
    t.equal(lower.status, 500);
    t.equal((await h.registrar.lookup('1002@a.example')).length, 1, 'binding untouched');
    const star = await register(h, ua, {
      user: '1002',
      contacts: ['*'],
      expires: 0,
      callId: 'c1',
      cseq: 3,
    });
    t.equal(star.status, 500, 'the rule applies to Contact: * as well');
    const other = await register(h, ua, { user: '1002', expires: 0, callId: 'c2', cseq: 1 });
    t.equal(other.status, 200);
    t.same(await h.registrar.lookup('1002@a.example'), []);
  },
);

t.test(
  'a REGISTER without Contact is a query: the 200 lists the bindings and changes nothing',
  async (t) => {
    const h = await startRegistrar(t);
    const ua = await startUa(t);
    await register(h, ua, { user: '1002', expires: 600 });
    h.clock.advance(100_000);
    const res = await register(h, ua, { user: '1002', contacts: [], callId: 'q' });
    t.equal(res.status, 200);
    t.same(listed(res), [[uaContact(ua, '1002'), 500]]);
  },
);

t.test('bindings expire on the clock and are reported as expired', async (t) => {
  const h = await startRegistrar(t);
  const ua = await startUa(t);
  await register(h, ua, { user: '1002', expires: 120 });
  const expired = recordEvents(h.registrar, 'expired');
  h.clock.advance(119_000);
  t.equal(expired.length, 0);
  h.clock.advance(1_000);
  t.equal(expired.length, 1);
  t.equal(expired[0]?.[0].aor, '1002@a.example');
  t.same(await h.registrar.lookup('1002@a.example'), []);
});

t.test('registrations are scoped by domain: 1002@a and 1002@b are different AORs', async (t) => {
  const h = await startRegistrar(t, {
    policy: new StaticAorPolicy({ domains: { 'a.example': ['1002'], 'b.example': '*' } }),
  });
  const ua = await startUa(t);
  await register(h, ua, {
    user: '1002',
    domain: 'a.example',
    contacts: ['<sip:1002@127.0.0.1:5071>'],
    expires: 600,
  });
  await register(h, ua, {
    user: '1002',
    domain: 'b.example',
    contacts: ['<sip:1002@127.0.0.1:5072>'],
    expires: 600,
  });
  t.same(
    (await h.registrar.lookup('sip:1002@a.example')).map((b) => b.uri),
    ['sip:1002@127.0.0.1:5071'],
  );
  t.same(
    (await h.registrar.lookup('sip:1002@B.example;user=phone')).map((b) => b.uri),
    ['sip:1002@127.0.0.1:5072'],
  );
  const unknownUser = await register(h, ua, { user: '1003', domain: 'a.example', expires: 600 });
  t.equal(unknownUser.status, 404, 'unknown user (§10.3 step 5)');
  const unknownDomain = await register(h, ua, { user: '1002', domain: 'c.example', expires: 600 });
  t.equal(unknownDomain.status, 404, 'domain not served (§10.3 step 1)');
});

t.test(
  'a binding count above the per-AOR limit gets 403 and the existing bindings stay',
  async (t) => {
    const h = await startRegistrar(t, { maxBindingsPerAor: 2 });
    const ua = await startUa(t);
    await register(h, ua, {
      user: '1002',
      expires: 600,
      contacts: ['<sip:1002@127.0.0.1:5071>', '<sip:1002@127.0.0.1:5072>'],
    });
    const over = await register(h, ua, {
      user: '1002',
      expires: 600,
      contacts: ['<sip:1002@127.0.0.1:5073>'],
      callId: 'n',
    });
    t.equal(over.status, 403);
    t.same(keys(await h.registrar.lookup('1002@a.example')).length, 2);
  },
);
