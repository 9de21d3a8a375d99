import t from 'tap';
import { createRequest } from '../../src/message/build-request.js';
import { generateBranch } from '../../src/message/ids.js';
import { addContactAlias, parseAlias, takeUriAlias } from '../../src/proxy/contact-alias.js';
import type { RouteDecision } from '../../src/proxy/route-decision.js';
import { ackFor2xx, buildRequest, type FakeUa } from './support/fake-ua.js';
import { scene, settle } from './support/scene.js';

const withContact = (contact: string) => buildRequest({ uri: 'sip:bob@example.test', contact });

t.test(
  'contact alias: a Contact naming another address than the source gets alias=ip~port~proto',
  (t) => {
    const r = withContact('"Bob" <sip:bob@10.0.0.7:5062;ob>;expires=60');
    t.equal(addContactAlias(r, { protocol: 'udp', address: '203.0.113.9', port: 41234 }), true);
    t.equal(
      r.headers.get('Contact'),
      '"Bob" <sip:bob@10.0.0.7:5062;ob;alias=203.0.113.9~41234~1>;expires=60',
    );
    // Idempotent: the same source again changes nothing.
    t.equal(addContactAlias(r, { protocol: 'udp', address: '203.0.113.9', port: 41234 }), false);
    t.end();
  },
);

t.test('contact alias: a Contact that names its source is left alone (no NAT)', (t) => {
  const r = withContact('<sip:bob@127.0.0.1:5070>');
  t.equal(addContactAlias(r, { protocol: 'udp', address: '127.0.0.1', port: 5070 }), false);
  t.equal(r.headers.get('Contact'), '<sip:bob@127.0.0.1:5070>');
  const tls = withContact('<sip:bob@127.0.0.1;transport=tls>');
  t.equal(addContactAlias(tls, { protocol: 'tls', address: '127.0.0.1', port: 5061 }), false);
  t.end();
});

t.test('contact alias: another transport, a stream source port or a host name is aliased', (t) => {
  const tls = withContact('<sip:bob@127.0.0.1:5061;transport=tls>');
  t.equal(addContactAlias(tls, { protocol: 'tls', address: '127.0.0.1', port: 53001 }), true);
  t.match(tls.headers.get('Contact'), /;alias=127\.0\.0\.1~53001~3>/);
  const ws = withContact('<sip:x7f@df7jal23ls0d.invalid;transport=ws>');
  t.equal(addContactAlias(ws, { protocol: 'ws', address: '::1', port: 60000 }), true);
  t.match(ws.headers.get('Contact'), /;alias=\[::1\]~60000~5>/);
  const udp = withContact('<sip:bob@127.0.0.1:5070>');
  t.equal(addContactAlias(udp, { protocol: 'tcp', address: '127.0.0.1', port: 5070 }), true);
  t.end();
});

t.test('contact alias: a star, a tel URI or a missing Contact is never touched', (t) => {
  for (const contact of ['*', '<tel:+15551234>']) {
    const r = withContact(contact);
    t.equal(addContactAlias(r, { protocol: 'udp', address: '1.2.3.4', port: 1 }), false, contact);
  }
  const none = createRequest({
    method: 'OPTIONS',
    uri: 'sip:a@b',
    from: '<sip:a@b>;tag=1',
    to: '<sip:a@b>',
    callId: 'c',
    cseq: 1,
    via: [`SIP/2.0/UDP 0.0.0.0;branch=${generateBranch()}`],
  });
  t.equal(addContactAlias(none, { protocol: 'udp', address: '1.2.3.4', port: 1 }), false);
  t.end();
});

t.test('contact alias: the Request-URI alias gives the target and is removed', (t) => {
  t.same(takeUriAlias('sip:bob@10.0.0.7:5062;ob;alias=203.0.113.9~41234~1'), {
    uri: 'sip:bob@10.0.0.7:5062;ob',
    target: { protocol: 'udp', address: '203.0.113.9', port: 41234 },
  });
  t.same(takeUriAlias('sip:bob@h;alias=[2001:db8::1]~5061~3')?.target, {
    protocol: 'tls',
    address: '2001:db8::1',
    port: 5061,
  });
  t.equal(takeUriAlias('sip:bob@10.0.0.7'), undefined, 'no alias');
  for (const bad of [
    'host~1~1',
    '1.2.3.4~0~1',
    '1.2.3.4~70000~1',
    '1.2.3.4~5060~4',
    '1.2.3.4~5060',
  ])
    t.equal(parseAlias(bad), undefined, `malformed: ${bad}`);
  t.end();
});

/** A callee whose Contact names a private address while the proxy reaches it at its real port. */
async function natScene(t: Parameters<typeof scene>[0], contactAlias?: boolean) {
  let reach = { uas: undefined as FakeUa | undefined };
  const s = await scene(t, {
    route: (): Promise<RouteDecision> => {
      const uas = reach.uas as FakeUa;
      return Promise.resolve({
        action: 'forward',
        targets: [[{ uri: 'sip:bob@10.0.0.7:5062', target: uas.target() }]],
      });
    },
    ...(contactAlias === undefined ? {} : { options: { contactAlias } }),
  });
  reach = { uas: s.uas[0] };
  return s;
}

t.test(
  'proxy contact alias: ACK and BYE to a NATed callee go to where it answered from, alias removed',
  async (t) => {
    const s = await natScene(t);
    const [uas] = s.uas as [FakeUa];
    const invite = buildRequest({ uri: 'sip:bob@example.test' });
    const call = s.uac.send(invite, s.proxy.target());
    const got = await uas.requests.next();
    t.match(
      got.request.headers.get('Contact'),
      new RegExp(`;alias=127\\.0\\.0\\.1~${s.uac.port()}~1>`),
      'the caller’s Contact (no port: 5060) names its real source in the alias',
    );
    uas.respond(got, 200, { headers: { Contact: '<sip:bob@10.0.0.7:5062>' } });
    const ok = await s.uac.nextResponse(call, 200);
    const contact = ok.contacts[0]?.uri ?? '';
    t.equal(
      contact,
      `sip:bob@10.0.0.7:5062;alias=127.0.0.1~${uas.port()}~1`,
      '2xx Contact aliased',
    );

    s.uac.transport.send(ackFor2xx(invite, ok), s.proxy.target()).catch(() => undefined);
    const ack = await uas.acks.next();
    t.equal(ack.uri, 'sip:bob@10.0.0.7:5062', 'the ACK reached the callee, alias stripped');

    const rr = ok.headers.values('Record-Route');
    const bye = buildRequest({
      method: 'BYE',
      uri: contact,
      callId: invite.callId,
      fromTag: invite.fromTag ?? '',
      toTag: ok.toTag ?? '',
      cseq: 2,
      route: rr,
    });
    const byeTx = s.uac.send(bye, s.proxy.target());
    const gotBye = await uas.requests.next();
    t.equal(gotBye.request.method, 'BYE');
    t.equal(gotBye.request.uri, 'sip:bob@10.0.0.7:5062', 'the BYE reached it, alias stripped');
    uas.respond(gotBye, 200);
    t.equal((await s.uac.nextResponse(byeTx, 200)).status, 200);
  },
);

t.test('proxy contact alias: off with contactAlias false (Contacts untouched)', async (t) => {
  const s = await natScene(t, false);
  const [uas] = s.uas as [FakeUa];
  const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
  const got = await uas.requests.next();
  t.equal(got.request.headers.get('Contact'), '<sip:alice@127.0.0.1>');
  uas.respond(got, 200, { headers: { Contact: '<sip:bob@10.0.0.7:5062>' } });
  const ok = await s.uac.nextResponse(call, 200);
  t.equal(ok.contacts[0]?.uri, 'sip:bob@10.0.0.7:5062');
  await settle();
});

t.test('proxy contact alias: requests that are not Record-Routed keep their Contact', async (t) => {
  const s = await scene(t, {
    route: (req): Promise<RouteDecision> =>
      Promise.resolve({ action: 'forward', targets: [[{ uri: req.uri }]], recordRoute: false }),
  });
  const [uas] = s.uas as [FakeUa];
  s.uac.send(buildRequest({ uri: uas.uri() }), s.proxy.target());
  const got = await uas.requests.next();
  t.equal(got.request.headers.get('Contact'), '<sip:alice@127.0.0.1>');
  uas.respond(got, 486);
  await settle();
});
