/** Registrar.handle on parsed requests: the answers to malformed and unsupported REGISTERs. */
import t, { type Test } from 'tap';
import { ManualClock, parseMessage, type Flow, type SipRequest } from '@switchboard/sip-stack';
import { MemoryLocationService, Registrar, type LocationService } from '../../src/index.js';

const FLOW: Flow = {
  protocol: 'udp',
  local: { address: '127.0.0.1', port: 5060 },
  remote: { address: '127.0.0.1', port: 5999 },
};

function req(
  lines: Record<string, string | string[]>,
  start = 'REGISTER sip:a.example SIP/2.0',
): SipRequest {
  const head: Record<string, string | string[]> = {
    Via: 'SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKh1',
    From: '<sip:1002@a.example>;tag=1',
    To: '<sip:1002@a.example>',
    'Call-ID': 'h1',
    CSeq: `1 ${start.split(' ')[0]}`,
    ...lines,
  };
  let text = `${start}\r\n`;
  for (const [k, v] of Object.entries(head))
    for (const one of [v].flat()) text += `${k}: ${one}\r\n`;
  const r = parseMessage(Buffer.from(`${text}Content-Length: 0\r\n\r\n`));
  if (!r.ok || r.message.kind !== 'request') throw new Error('fixture did not parse');
  return r.message;
}

function registrar(t: Test, location?: LocationService): Registrar {
  const clock = new ManualClock(0);
  const loc = location ?? new MemoryLocationService({ clock });
  const r = new Registrar({ location: loc, clock, serverHeader: 'switchboard-test' });
  t.teardown(() => r.close());
  return r;
}

const cases: [string, SipRequest, number, string?][] = [
  [
    'Require naming an unknown extension gets 420 with Unsupported (§10.3 step 2)',
    req({ Require: 'foo, path', Contact: '<sip:x@127.0.0.1>' }),
    420,
  ],
  [
    'a tel: Request-URI gets 416',
    req({ Contact: '<sip:x@127.0.0.1>' }, 'REGISTER tel:+15551234 SIP/2.0'),
    416,
  ],
  [
    'a To that is not a SIP URI gets 404 (§10.3 step 5)',
    req({ To: '<tel:+15551234>', Contact: '<sip:x@127.0.0.1>' }),
    404,
  ],
  [
    'a To in another domain than the Request-URI gets 404',
    req({ To: '<sip:1002@b.example>', Contact: '<sip:x@127.0.0.1>' }),
    404,
  ],
  ['a malformed Contact gets 400', req({ Contact: '<sip:x@127.0.0.1' }), 400],
  ['a q-value out of range gets 400', req({ Contact: '<sip:x@127.0.0.1>;q=1.5' }), 400],
  [
    'a malformed reg-id gets 400',
    req({
      Contact: '<sip:x@127.0.0.1>;+sip.instance="<urn:uuid:1>";reg-id=abc',
      Supported: 'outbound',
    }),
    400,
  ],
  [
    'two Contacts with reg-id in one REGISTER get 400 (RFC 5626 §4.2.1)',
    req({
      Supported: 'outbound',
      Contact: [
        '<sip:x@127.0.0.1>;+sip.instance="<urn:uuid:1>";reg-id=1',
        '<sip:y@127.0.0.1>;+sip.instance="<urn:uuid:1>";reg-id=2',
      ],
    }),
    400,
  ],
  ['a method other than REGISTER gets 405', req({}, 'OPTIONS sip:a.example SIP/2.0'), 405],
];

for (const [name, request, status] of cases) {
  t.test(name, async (t) => {
    const res = await registrar(t).handle(request, FLOW);
    t.equal(res.status, status);
    t.equal(res.headers.get('Server'), 'switchboard-test');
    if (status === 420) t.same(res.headers.values('Unsupported'), ['foo']);
    if (status === 405) t.equal(res.headers.get('Allow'), 'REGISTER');
  });
}

t.test('a malformed Expires header counts as 3600 (RFC 3261 §20.19)', async (t) => {
  const res = await registrar(t).handle(
    req({ Contact: '<sip:x@127.0.0.1:5999>', Expires: 'soon' }),
    FLOW,
  );
  t.equal(res.status, 200);
  t.equal(res.contacts[0]?.expires, 3600);
});

t.test('a location service that fails answers 500 and never throws', async (t) => {
  const broken = new MemoryLocationService();
  t.teardown(() => broken.close());
  // a remote store: apply only, and it rejects
  broken.apply = () => Promise.reject(new Error('backend down'));
  Object.defineProperty(broken, 'applyNow', { value: undefined });
  const res = await registrar(t, broken).handle(req({ Contact: '<sip:x@127.0.0.1:5999>' }), FLOW);
  t.equal(res.status, 500);
});

t.test('a location service that throws while applying at once answers 500', async (t) => {
  const broken = new MemoryLocationService();
  t.teardown(() => broken.close());
  broken.applyNow = () => {
    throw new Error('corrupt index');
  };
  const res = await registrar(t, broken).handle(req({ Contact: '<sip:x@127.0.0.1:5999>' }), FLOW);
  t.equal(res.status, 500);
});

t.test('escaped and differently-cased AORs name the same bindings (§10.3 step 5)', async (t) => {
  const r = registrar(t);
  await r.handle(
    req({ To: '<sip:%31002@A.Example;user=phone>', Contact: '<sip:x@127.0.0.1:5999>' }),
    FLOW,
  );
  t.equal((await r.lookup('1002@a.example')).length, 1);
  t.equal((await r.lookup('sip:1002@a.example')).length, 1);
});

t.test('equal Contact URIs (§19.1.4) update one binding; different ones add', async (t) => {
  const r = registrar(t);
  await r.handle(
    req({ Contact: '<sip:x@127.0.0.1:5999;transport=UDP;foo=1>', 'Call-ID': 'e1' }),
    FLOW,
  );
  await r.handle(req({ Contact: '<sip:x@127.0.0.1:5999;transport=udp>', 'Call-ID': 'e2' }), FLOW);
  t.equal(
    (await r.lookup('1002@a.example')).length,
    1,
    'transport compared case-insensitively, other params ignored',
  );
  await r.handle(req({ Contact: '<sip:x@127.0.0.1>', 'Call-ID': 'e3' }), FLOW);
  t.equal((await r.lookup('1002@a.example')).length, 2, 'an explicit port differs from none');
});

t.test(
  'an authenticator may answer at once: no promise for a challenge or an identity',
  async (t) => {
    const clock = new ManualClock(0);
    const location = new MemoryLocationService({ clock });
    t.teardown(() => location.close());
    const seen: string[] = [];
    const r = new Registrar({
      location,
      clock,
      authenticator: {
        authenticate: (request) => {
          seen.push(request.callId);
          return request.headers.has('Authorization')
            ? { ok: true, identity: { username: '1002' } }
            : {
                ok: false,
                status: 401,
                headers: { 'WWW-Authenticate': 'Digest realm="a.example"' },
              };
        },
        authorize: (identity) => identity.username === '1002',
      },
    });
    t.teardown(() => r.close());
    const first = await r.handle(req({ Contact: '<sip:x@127.0.0.1:5999>' }), FLOW);
    t.equal(first.status, 401);
    t.equal(first.headers.get('WWW-Authenticate'), 'Digest realm="a.example"');
    const second = await r.handle(
      req({ Contact: '<sip:x@127.0.0.1:5999>', Authorization: 'Digest x=1', 'Call-ID': 'h2' }),
      FLOW,
    );
    t.equal(second.status, 200);
    t.equal((await r.lookup('1002@a.example')).length, 1);
    t.same(seen, ['h1', 'h2']);
  },
);
