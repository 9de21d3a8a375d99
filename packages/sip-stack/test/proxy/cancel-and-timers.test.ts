import { createServer } from 'node:net';
import t from 'tap';
import { createCancel } from '../../src/message/build-request.js';
import { SipResolver } from '../../src/dns/sip-resolver.js';
import type { RouteDecision } from '../../src/proxy/route-decision.js';
import { TRYING_DELAY_MS } from '../../src/transaction/invite-server-transaction.js';
import { FakeDnsResolver } from '../dns/support/fake-dns-resolver.js';
import type { FakeUa } from './support/fake-ua.js';
import { buildRequest } from './support/fake-ua.js';
import { scene, settle } from './support/scene.js';

const T1 = 500;

t.test(
  'proxy §16.10: CANCEL after a provisional: 200 and 487 upstream, CANCEL downstream',
  async (t) => {
    const s = await scene(t);
    const [uas] = s.uas as [FakeUa];
    const invite = buildRequest({ uri: uas.uri() });
    const call = s.uac.send(invite, s.proxy.target());
    const inInvite = await uas.requests.next();
    uas.respond(inInvite, 180);
    await s.uac.nextResponse(call);
    const cancel = s.uac.send(createCancel(invite), s.proxy.target());
    t.equal((await s.uac.nextResponse(cancel, 200)).status, 200, '200 to the CANCEL');
    t.equal((await s.uac.nextResponse(call, 200)).status, 487, '487 to the INVITE');
    const down = await uas.requests.next();
    t.equal(down.request.method, 'CANCEL');
    uas.respond(down, 200);
    uas.respond(inInvite, 487);
    await settle();
    t.equal(call.responses.size, 0, 'the downstream 487 is not forwarded a second time');
    t.equal(s.proxy.proxy.stats().contexts, 0);
  },
);

t.test(
  'proxy §16.10: CANCEL before any provisional waits for one before cancelling downstream',
  async (t) => {
    const s = await scene(t);
    const [uas] = s.uas as [FakeUa];
    const invite = buildRequest({ uri: uas.uri() });
    const call = s.uac.send(invite, s.proxy.target());
    const inInvite = await uas.requests.next();
    const cancel = s.uac.send(createCancel(invite), s.proxy.target());
    t.equal((await s.uac.nextResponse(cancel, 200)).status, 200);
    t.equal((await s.uac.nextResponse(call, 200)).status, 487);
    await settle();
    t.equal(uas.requests.size, 0, 'no CANCEL sent before a provisional');
    uas.respond(inInvite, 180);
    const down = await uas.requests.next();
    t.equal(down.request.method, 'CANCEL');
    uas.respond(down, 200);
    uas.respond(inInvite, 487);
  },
);

t.test(
  'proxy §16.10: CANCEL while the routing callback runs answers 487 and forwards nothing',
  async (t) => {
    let decide: (d: RouteDecision) => void = () => undefined;
    const s = await scene(t, {
      route: () => new Promise<RouteDecision>((resolve) => (decide = resolve)),
    });
    const [uas] = s.uas as [FakeUa];
    const invite = buildRequest({ uri: uas.uri() });
    const call = s.uac.send(invite, s.proxy.target());
    await settle();
    // RFC 3261 §17.2.1: routing still running after 200 ms → the transaction sends 100 (Trying)
    s.clock.advance(TRYING_DELAY_MS);
    t.equal((await s.uac.nextResponse(call, 100)).status, 100);
    s.uac.send(createCancel(invite), s.proxy.target());
    t.equal((await s.uac.nextResponse(call, 200)).status, 487);
    decide({ action: 'forward', targets: [[{ uri: uas.uri() }]] });
    await settle();
    t.equal(uas.requests.size, 0);
    t.equal(s.proxy.proxy.stats().contexts, 0);
  },
);

t.test('proxy §16.10: a CANCEL that matches no transaction is answered 481', async (t) => {
  const s = await scene(t);
  const cancel = s.uac.send(createCancel(buildRequest({ uri: s.uas[0]!.uri() })), s.proxy.target());
  t.equal((await s.uac.nextResponse(cancel, 200)).status, 481);
});

t.test(
  'proxy §16.8: Timer C after a provisional sends CANCEL; the 487 goes upstream',
  async (t) => {
    const s = await scene(t, { options: { timerC: 200_000 } });
    const [uas] = s.uas as [FakeUa];
    const call = s.uac.send(buildRequest({ uri: uas.uri() }), s.proxy.target());
    const inInvite = await uas.requests.next();
    uas.respond(inInvite, 180);
    await s.uac.nextResponse(call);
    s.clock.advance(150_000);
    uas.respond(inInvite, 183);
    await s.uac.nextResponse(call);
    s.clock.advance(150_000);
    await settle();
    t.equal(uas.requests.size, 0, 'the 183 reset Timer C');
    s.clock.advance(50_000);
    const down = await uas.requests.next();
    t.equal(down.request.method, 'CANCEL', 'Timer C fired: CANCEL');
    uas.respond(down, 200);
    uas.respond(inInvite, 487);
    t.equal((await s.uac.nextResponse(call, 200)).status, 487);
  },
);

t.test('proxy §16.8: Timer C before any provisional acts as a 408', async (t) => {
  const s = await scene(t, { options: { timerC: 10_000 } });
  const [uas] = s.uas as [FakeUa];
  const call = s.uac.send(buildRequest({ uri: uas.uri() }), s.proxy.target());
  await uas.requests.next();
  s.clock.advance(10_000);
  t.equal((await s.uac.nextResponse(call, 200)).status, 408);
  await settle();
  t.equal(s.proxy.proxy.stats().contexts, 0);
});

t.test(
  'proxy §16.7: 2xx retransmissions are forwarded, through the transaction and then statelessly',
  async (t) => {
    const s = await scene(t);
    const [uas] = s.uas as [FakeUa];
    const call = s.uac.send(buildRequest({ uri: uas.uri() }), s.proxy.target());
    const inInvite = await uas.requests.next();
    const ok = uas.respond(inInvite, 200);
    t.equal((await s.uac.nextResponse(call, 200)).status, 200);
    // RFC 3261 §13.3.1.4: the UAS core retransmits the 2xx until the ACK.
    void uas.transport.send(ok, s.proxy.target());
    t.equal((await s.uac.nextResponse(call, 200)).status, 200, 'retransmission while in Accepted');
    s.clock.advance(64 * T1 + 1); // Timers L and M: every transaction is gone
    void uas.transport.send(ok, s.proxy.target());
    const stray = await s.uac.strayResponses.next();
    t.equal(stray.status, 200, 'stray 2xx forwarded statelessly');
    t.equal(stray.via.length, 1, 'with the proxy Via removed');
    t.equal(s.proxy.proxy.stats().strayResponsesForwarded, 1);
  },
);

t.test(
  'proxy hooks: onBranchResponse sees each branch response, onFinalResponse the final sent',
  async (t) => {
    const branch: string[] = [];
    const final: number[] = [];
    const s = await scene(t, {
      options: {
        hooks: {
          onBranchResponse: (e) =>
            branch.push(`${e.group}:${e.response.status}${e.synthetic ? '*' : ''}`),
          onFinalResponse: (e) => {
            final.push(e.response.status);
            throw new Error('a throwing hook is ignored');
          },
        },
      },
    });
    const [uas] = s.uas as [FakeUa];
    const call = s.uac.send(buildRequest({ uri: uas.uri() }), s.proxy.target());
    const inInvite = await uas.requests.next();
    uas.respond(inInvite, 180);
    uas.respond(inInvite, 486);
    t.equal((await s.uac.nextResponse(call, 200)).status, 486);
    t.same(branch, ['0:180', '0:486']);
    t.same(final, [486]);
  },
);

/** A TCP port with nothing listening. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

t.test(
  'proxy §16.9 / RFC 3263 §4.3: a transport failure moves to the next SRV target',
  async (t) => {
    const dead = await deadPort();
    const dns = new FakeDnsResolver({});
    const resolver = new SipResolver({ resolver: dns, protocols: ['udp', 'tcp'] });
    const s = await scene(t, { uasProtocols: ['tcp'], options: { resolver } });
    const [uas] = s.uas as [FakeUa];
    dns.zone = {
      SRV: {
        '_sip._tcp.bob.test': [
          { name: 'dead.test', port: dead, priority: 10, weight: 0 },
          { name: 'live.test', port: uas.port('tcp'), priority: 20, weight: 0 },
        ],
      },
      A: {
        'dead.test': [{ address: '127.0.0.1', ttl: 60 }],
        'live.test': [{ address: '127.0.0.1', ttl: 60 }],
      },
    };
    const call = s.uac.send(
      buildRequest({ method: 'MESSAGE', uri: 'sip:bob@bob.test;transport=tcp' }),
      s.proxy.target(),
    );
    const got = await uas.requests.next();
    t.equal(got.request.uri, 'sip:bob@bob.test;transport=tcp');
    uas.respond(got, 200);
    t.equal((await s.uac.nextResponse(call, 200)).status, 200);
    t.match(
      dns.queries,
      ['SRV _sip._tcp.bob.test', 'A dead.test'],
      'the dead target was tried first',
    );
  },
);

t.test(
  'proxy §16.9: when every target fails the caller gets 500 (a 503 is never forwarded)',
  async (t) => {
    const dead = await deadPort();
    const s = await scene(t);
    const call = s.uac.send(
      buildRequest({ method: 'MESSAGE', uri: `sip:bob@127.0.0.1:${dead};transport=tcp` }),
      s.proxy.target(),
    );
    t.equal((await s.uac.nextResponse(call, 200)).status, 500);
  },
);
