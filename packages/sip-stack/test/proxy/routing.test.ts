import t from 'tap';
import { ackFor2xx, buildRequest } from './support/fake-ua.js';
import { scene } from './support/scene.js';

t.test(
  'proxy: INVITE/200/ACK/BYE through the proxy with a single Record-Route (RFC 3261 §16.6 item 4)',
  async (t) => {
    const s = await scene(t);
    const [uas] = s.uas as [typeof s.uac];
    const rr = `<sip:127.0.0.1:${s.proxy.target().port};transport=udp;lr>`;
    const invite = buildRequest({ uri: uas.uri() });
    const call = s.uac.send(invite, s.proxy.target());
    const got = await uas.requests.next();
    t.same(
      got.request.headers.getAll('Record-Route'),
      [rr],
      'one Record-Route, ours, with lr and transport',
    );
    t.equal(got.request.via.length, 2);
    t.equal(got.request.maxForwards, 69);
    uas.respond(got, 180);
    t.equal((await s.uac.nextResponse(call)).status, 180);
    uas.respond(got, 200);
    const ok = await s.uac.nextResponse(call, 200);
    t.equal(ok.status, 200);
    t.same(ok.headers.getAll('Record-Route'), [rr], 'the 2xx carries the route set back');
    t.equal(ok.via.length, 1, 'the proxy removed its Via');

    // RFC 3261 §16.4 + §16.11: the ACK for the 2xx passes statelessly along the route set.
    s.uac.transport.send(ackFor2xx(invite, ok), s.proxy.target()).catch(() => undefined);
    const ack = await uas.acks.next();
    t.equal(ack.headers.has('Route'), false, 'our Route entry was removed');
    t.equal(ack.uri, uas.uri());

    const bye = buildRequest({
      method: 'BYE',
      uri: ok.contacts[0]?.uri ?? '',
      callId: invite.callId,
      fromTag: invite.fromTag ?? '',
      toTag: ok.toTag ?? '',
      cseq: 2,
      route: [rr],
    });
    const byeTx = s.uac.send(bye, s.proxy.target());
    const gotBye = await uas.requests.next();
    t.equal(gotBye.request.method, 'BYE');
    t.equal(
      gotBye.request.headers.has('Record-Route'),
      false,
      'in-dialog requests are not Record-Routed',
    );
    uas.respond(gotBye, 200);
    t.equal((await s.uac.nextResponse(byeTx, 200)).status, 200);
    t.equal(s.proxy.routed.length, 1, 'only the initial INVITE went to the routing callback');
  },
);

t.test(
  'proxy: UDP in, TCP out gets a double Record-Route; in-dialog requests pop both (RFC 5658)',
  async (t) => {
    const s = await scene(t, { protocols: ['udp', 'tcp'], uasProtocols: ['tcp'] });
    const [uas] = s.uas as [typeof s.uac];
    const udpRr = `<sip:127.0.0.1:${s.proxy.target('udp').port};transport=udp;lr;r2=on>`;
    const tcpRr = `<sip:127.0.0.1:${s.proxy.target('tcp').port};transport=tcp;lr;r2=on>`;
    const invite = buildRequest({ uri: uas.uri('tcp') });
    const call = s.uac.send(invite, s.proxy.target());
    const got = await uas.requests.next();
    t.equal(got.flow.protocol, 'tcp');
    t.same(
      got.request.headers.getAll('Record-Route'),
      [tcpRr, udpRr],
      'outbound-facing entry on top',
    );
    t.equal(got.request.topVia?.transport, 'TCP');
    uas.respond(got, 200);
    const ok = await s.uac.nextResponse(call, 200);
    t.same(ok.headers.values('Record-Route'), [tcpRr, udpRr], 'route set returned');

    const bye = buildRequest({
      method: 'BYE',
      uri: ok.contacts[0]?.uri ?? '',
      callId: invite.callId,
      fromTag: invite.fromTag ?? '',
      toTag: ok.toTag ?? '',
      cseq: 2,
      route: [udpRr, tcpRr],
    });
    s.uac.send(bye, s.proxy.target());
    const gotBye = await uas.requests.next();
    t.equal(gotBye.flow.protocol, 'tcp', 'BYE left over TCP');
    t.equal(gotBye.request.headers.has('Route'), false, 'both of our Route entries were removed');
    uas.respond(gotBye, 200);
  },
);

t.test(
  'proxy §16.4/§16.6 item 7: a loose Route after ours is the next hop; the Request-URI is kept',
  async (t) => {
    const s = await scene(t);
    const [uas] = s.uas as [typeof s.uac];
    const next = `<sip:127.0.0.1:${uas.port()};lr>`;
    const req = buildRequest({
      method: 'MESSAGE',
      uri: 'sip:bob@example.test',
      route: [`<sip:127.0.0.1:${s.proxy.target().port};lr>`, next],
    });
    s.uac.send(req, s.proxy.target());
    const got = await uas.requests.next();
    t.equal(got.request.uri, 'sip:bob@example.test');
    t.same(got.request.headers.values('Route'), [next]);
    t.equal(
      s.proxy.routed[0]?.headers.values('Route').length,
      1,
      'the callback saw the request after §16.4',
    );
  },
);

t.test(
  'proxy §16.6 item 6: a strict-router next hop becomes the Request-URI; the old one the last Route',
  async (t) => {
    const s = await scene(t);
    const [uas] = s.uas as [typeof s.uac];
    const strict = `sip:127.0.0.1:${uas.port()}`;
    const req = buildRequest({
      method: 'MESSAGE',
      uri: 'sip:bob@example.test',
      route: [`<sip:127.0.0.1:${s.proxy.target().port};lr>`, `<${strict}>`],
    });
    s.uac.send(req, s.proxy.target());
    const got = await uas.requests.next();
    t.equal(got.request.uri, strict);
    t.same(got.request.headers.values('Route'), ['<sip:bob@example.test>']);
  },
);

t.test(
  'proxy §16.4: a Request-URI we Record-Routed (strict previous hop) is replaced by the last Route',
  async (t) => {
    const s = await scene(t);
    const [uas] = s.uas as [typeof s.uac];
    const req = buildRequest({
      method: 'BYE',
      uri: `sip:127.0.0.1:${s.proxy.target().port};transport=udp;lr`,
      toTag: 'b1',
      route: [`<${uas.uri()}>`],
    });
    s.uac.send(req, s.proxy.target());
    const got = await uas.requests.next();
    t.equal(got.request.uri, uas.uri());
    t.equal(got.request.headers.has('Route'), false);
    uas.respond(got, 200);
  },
);
