import t from 'tap';
import { createRequest } from '@switchboard/sip-stack';
import type { OutboundDirective, TrunkHop } from '../../src/brain/directive.js';
import { TrunkPlans, trunkUri } from '../../src/b2bua-bridge/trunk-plans.js';

function hop(extra: Partial<TrunkHop> = {}): TrunkHop {
  return {
    trunkId: 'tr_a',
    host: 'sip.carrier.test',
    port: 5080,
    transport: 'udp',
    number: '+442071234567',
    authUsername: null,
    authSecretRef: null,
    customHeaders: null,
    maxChannels: null,
    callerId: null,
    ...extra,
  };
}

function directive(trunks: TrunkHop[]): OutboundDirective {
  return {
    kind: 'outbound',
    accountId: 'acc',
    number: '442071234567',
    callerId: null,
    routeId: null,
    trunks,
  };
}

const invite = (privacy?: string) =>
  createRequest({
    method: 'INVITE',
    uri: 'sip:442071234567@pbx.test',
    from: '<sip:alice@pbx.test>;tag=1',
    to: '<sip:442071234567@pbx.test>',
    callId: 'c1',
    cseq: 1,
    ...(privacy === undefined ? {} : { headers: { Privacy: privacy } }),
  });

const secrets = { get: (ref: string) => Promise.resolve(ref === 'sec_1' ? 'pa55' : undefined) };

t.test('trunk URI: number at host:port, transport parameter for TCP, sips for TLS', (t) => {
  t.equal(trunkUri(hop()), 'sip:+442071234567@sip.carrier.test:5080');
  t.equal(
    trunkUri(hop({ port: null, transport: 'tcp', number: '0207' })),
    'sip:0207@sip.carrier.test;transport=tcp',
  );
  t.equal(
    trunkUri(hop({ transport: 'tls', host: '2001:db8::1' })),
    'sips:+442071234567@[2001:db8::1]:5080;transport=tls',
  );
  t.end();
});

t.test(
  'trunk plans: credentials from the secret store, caller ID, custom headers, privacy',
  async (t) => {
    const plans = new TrunkPlans({ secrets });
    const [a, b] = await plans.attempts(
      directive([
        hop({
          authUsername: 'acme',
          authSecretRef: 'sec_1',
          callerId: '442070000001',
          customHeaders: { 'X-Acct': '7' },
        }),
        hop({ trunkId: 'tr_b', authUsername: 'acme', authSecretRef: 'sec_gone' }),
      ]),
      invite('id'),
    );
    t.same(a?.plan.targets[0]?.credentials, { username: 'acme', password: 'pa55' });
    t.same(a?.plan.targets[0]?.headers, { 'X-Acct': '7' });
    t.equal(a?.plan.policy?.callerId?.number, '442070000001');
    t.equal(a?.plan.policy?.callerId?.privacy, 'id', 'RFC 3323 privacy kept toward the trunk');
    t.equal(b?.trunkId, 'tr_b');
    t.equal(
      b?.plan.targets[0]?.credentials,
      undefined,
      'an unreadable secret sends no credentials',
    );
  },
);

t.test(
  'trunk plans: a trunk at max_channels is skipped; its channel is held by the plan',
  async (t) => {
    const plans = new TrunkPlans({ secrets });
    const d = directive([hop({ maxChannels: 1 }), hop({ trunkId: 'tr_b' })]);
    const first = await plans.attempts(d, invite());
    t.same(
      first.map((x) => x.trunkId),
      ['tr_a', 'tr_b'],
    );
    const limiter = first[0]?.plan.channels?.[0];
    const release = limiter?.tryAcquire();
    t.ok(release, 'the plan carries the trunk limiter');
    t.same(
      (await plans.attempts(d, invite())).map((x) => x.trunkId),
      ['tr_b'],
      'full trunk skipped',
    );
    release?.();
    t.same(
      (await plans.attempts(d, invite())).map((x) => x.trunkId),
      ['tr_a', 'tr_b'],
    );
  },
);
