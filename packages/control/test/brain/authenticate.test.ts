import t from 'tap';
import { computeDigestResponse, computeHa1 } from '@switchboard/sip-stack';
import type { DigestAlgorithm } from '@switchboard/sip-stack';
import type { AuthRequest } from '../../src/brain/brain.js';
import { LocalBrain } from '../../src/brain/local-brain.js';
import { PASSWORD, buildPbx } from '../support/pbx-fixture.js';
import { openTestStore } from '../support/test-store.js';

/** What a user agent sends: a digest response computed from the clear password. */
function credentials(
  username: string,
  realm: string,
  password: string,
  algorithm: DigestAlgorithm,
  qop = true,
): AuthRequest {
  const base = { method: 'REGISTER', uri: `sip:${realm}`, nonce: 'abc123nonce' };
  const ha1 = computeHa1(algorithm, username, realm, password);
  const extra = qop ? { cnonce: 'c0ffee', nc: '00000001', qop: 'auth' as const } : {};
  const response = computeDigestResponse({ algorithm, ha1, ...base, ...extra });
  return { ...base, ...extra, username, realm, response, algorithm };
}

t.test(
  'authenticate: MD5, SHA-256 and SHA-512-256 digests verify against stored HA1s',
  async (t) => {
    const ts = openTestStore();
    t.teardown(ts.close);
    const pbx = await buildPbx(ts.store);
    const brain = new LocalBrain({ directory: ts.store.directory, clock: ts.clock });
    for (const alg of ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess', 'SHA-512-256'] as const) {
      const d = await brain.authenticate(credentials('alice', pbx.domain, PASSWORD, alg));
      t.same(
        d,
        {
          ok: true,
          accountId: pbx.accountId,
          userId: pbx.users.alice,
          deviceId: pbx.devices.aliceDesk,
        },
        alg,
      );
    }
    const rfc2069 = await brain.authenticate(
      credentials('bob', pbx.domain, PASSWORD, 'MD5', false),
    );
    t.match(rfc2069, { ok: true, deviceId: pbx.devices.bobDesk }, 'no qop (RFC 2069 form)');
    const withDomain = await brain.authenticate(
      credentials(`bob@${pbx.domain}`, pbx.domain, PASSWORD, 'MD5'),
    );
    t.match(
      withDomain,
      { ok: true, deviceId: pbx.devices.bobDesk },
      'user@domain usernames use ha1b',
    );
    const noAlg = credentials('bob', pbx.domain, PASSWORD, 'MD5');
    delete noAlg.algorithm;
    t.match(await brain.authenticate(noAlg), { ok: true }, 'a missing algorithm means MD5');
  },
);

t.test('authenticate: wrong password, unknown device and bad input are refusals', async (t) => {
  const ts = openTestStore();
  t.teardown(ts.close);
  const pbx = await buildPbx(ts.store);
  const brain = new LocalBrain({ directory: ts.store.directory, clock: ts.clock });
  t.match(await brain.authenticate(credentials('alice', pbx.domain, 'guess', 'SHA-256')), {
    ok: false,
    code: 'CTL_ERR_AUTH_FAILED',
    status: 401,
  });
  t.match(await brain.authenticate(credentials('mallory', pbx.domain, PASSWORD, 'MD5')), {
    ok: false,
    code: 'CTL_ERR_UNKNOWN_DEVICE',
    status: 403,
  });
  t.match(await brain.authenticate(credentials('alice', 'other.test', PASSWORD, 'MD5')), {
    ok: false,
    code: 'CTL_ERR_UNKNOWN_DEVICE',
  });
  t.match(
    await brain.authenticate({
      ...credentials('alice', pbx.domain, PASSWORD, 'MD5'),
      algorithm: 'SHA-1' as never,
    }),
    { ok: false, code: 'CTL_ERR_VALIDATION', status: 400 },
  );
  t.match(await brain.authenticate({ method: 'REGISTER' } as AuthRequest), {
    ok: false,
    code: 'CTL_ERR_VALIDATION',
  });
  const qopNoCnonce = credentials('alice', pbx.domain, PASSWORD, 'MD5');
  delete qopNoCnonce.cnonce;
  t.match(await brain.authenticate(qopNoCnonce), { ok: false, code: 'CTL_ERR_VALIDATION' });
});

t.test('authenticate: disabled devices, users and suspended accounts are refused', async (t) => {
  const ts = openTestStore();
  t.teardown(ts.close);
  const pbx = await buildPbx(ts.store);
  const brain = new LocalBrain({ directory: ts.store.directory, clock: ts.clock });
  await ts.store.table('sip_device').update(pbx.devices.bobDesk, { status: 'disabled' });
  t.match(await brain.authenticate(credentials('bob', pbx.domain, PASSWORD, 'MD5')), {
    ok: false,
    code: 'CTL_ERR_FORBIDDEN',
    status: 403,
  });
  await ts.store.table('sip_user').update(pbx.users.carol, { status: 'disabled' });
  t.match(await brain.authenticate(credentials('carol', pbx.domain, PASSWORD, 'MD5')), {
    ok: false,
    code: 'CTL_ERR_FORBIDDEN',
  });
  await ts.store.table('account').update(pbx.accountId, { status: 'suspended' });
  t.match(await brain.authenticate(credentials('alice', pbx.domain, PASSWORD, 'MD5')), {
    ok: false,
    code: 'CTL_ERR_ACCOUNT_DISABLED',
    reason: 'account is suspended',
  });
});

t.test(
  'authenticate: a password change takes effect at once; the password is never stored',
  async (t) => {
    const ts = openTestStore();
    t.teardown(ts.close);
    const pbx = await buildPbx(ts.store);
    const brain = new LocalBrain({ directory: ts.store.directory, clock: ts.clock });
    const r = await ts.store
      .table('sip_device')
      .update(pbx.devices.daveDesk, { password: 'brand-new-pass' });
    t.equal(r.ok, true);
    if (r.ok)
      t.notOk(
        'password' in r.value.row || 'ha1' in r.value.row,
        'neither password nor HA1 is returned',
      );
    t.match(await brain.authenticate(credentials('dave', pbx.domain, PASSWORD, 'MD5')), {
      ok: false,
    });
    t.match(
      await brain.authenticate(credentials('dave', pbx.domain, 'brand-new-pass', 'SHA-512-256')),
      { ok: true },
    );
    const dump = JSON.stringify(ts.store.db.prepare('SELECT * FROM sip_device').all());
    t.notOk(
      dump.includes('brand-new-pass') || dump.includes(PASSWORD),
      'no clear password in the device table',
    );
  },
);
