import t from 'tap';
import { createCancel } from '../../src/message/build-request.js';
import { createResponse } from '../../src/message/build-response.js';
import type { RouteDecision } from '../../src/proxy/route-decision.js';
import { TRYING_DELAY_MS } from '../../src/transaction/invite-server-transaction.js';
import type { ServerTransaction } from '../../src/transaction/transaction.js';
import type { IncomingMessage } from '../../src/transport/transport.js';
import { buildRequest } from './support/fake-ua.js';
import { scene, settle } from './support/scene.js';

interface Delegated {
  tx: ServerTransaction;
  incoming: IncomingMessage;
}

t.test(
  'proxy delegate: the handler gets the validated request and answers it; the proxy keeps no context',
  async (t) => {
    const handed: Delegated[] = [];
    const s = await scene(t, {
      route: () =>
        Promise.resolve<RouteDecision>({
          action: 'delegate',
          handler: (tx, incoming) => {
            handed.push({ tx, incoming });
            tx.respond(createResponse(tx.request, 486));
          },
        }),
    });
    const [uas] = s.uas as [typeof s.uac];
    const invite = buildRequest({ uri: uas.uri() });
    const call = s.uac.send(invite, s.proxy.target());
    t.equal(
      (await s.uac.nextResponse(call, 100)).status,
      486,
      'the handler answered, with no 100 Trying before (it answered within 200 ms)',
    );
    t.equal(handed.length, 1);
    t.equal(handed[0]?.tx.request.callId, invite.callId);
    t.equal(handed[0]?.incoming.flow.remote.port, s.uac.port(), 'the flow it came in on');
    t.equal(s.proxy.proxy.stats().contexts, 0, 'the proxy forgot the transaction');
    t.equal(uas.requests.size, 0, 'nothing was forwarded');
  },
);

t.test(
  'proxy delegate: a handler that has not answered within 200 ms leaves the caller a 100 Trying from the transaction (RFC 3261 §17.2.1)',
  async (t) => {
    const handed: ServerTransaction[] = [];
    const s = await scene(t, {
      route: () =>
        Promise.resolve<RouteDecision>({
          action: 'delegate',
          handler: (tx) => void handed.push(tx),
        }),
    });
    const [uas] = s.uas as [typeof s.uac];
    const call = s.uac.send(buildRequest({ uri: uas.uri() }), s.proxy.target());
    await settle();
    t.equal(handed.length, 1, 'the handler has the INVITE');
    s.clock.advance(TRYING_DELAY_MS);
    t.equal((await s.uac.nextResponse(call, 100)).status, 100);
    const tx = handed[0];
    tx?.respond(createResponse(tx.request, 180));
    t.equal((await s.uac.nextResponse(call, 100)).status, 180, "then the handler's own response");
  },
);

t.test(
  'proxy delegate: a request failing validation never reaches the handler (§16.3)',
  async (t) => {
    let called = 0;
    const s = await scene(t, {
      route: () =>
        Promise.resolve<RouteDecision>({ action: 'delegate', handler: () => void called++ }),
    });
    const [uas] = s.uas as [typeof s.uac];
    const sent = s.uac.send(buildRequest({ uri: uas.uri(), maxForwards: 0 }), s.proxy.target());
    t.equal((await s.uac.nextResponse(sent, 200)).status, 483);
    t.equal(called, 0);
  },
);

t.test(
  'proxy delegate: a CANCEL while routing gets 487 from the proxy and the handler is not called',
  async (t) => {
    let release: () => void = () => undefined;
    let called = 0;
    const s = await scene(t, {
      route: () =>
        new Promise<RouteDecision>((resolve) => {
          release = () => resolve({ action: 'delegate', handler: () => void called++ });
        }),
    });
    const [uas] = s.uas as [typeof s.uac];
    const invite = buildRequest({ uri: uas.uri() });
    const call = s.uac.send(invite, s.proxy.target());
    await settle();
    // RFC 3261 §17.2.1: routing still running after 200 ms → the transaction sends 100 (Trying)
    s.clock.advance(TRYING_DELAY_MS);
    t.equal((await s.uac.nextResponse(call, 100)).status, 100);
    const cancel = s.uac.send(createCancel(invite), s.proxy.target());
    t.equal((await s.uac.nextResponse(cancel, 200)).status, 200);
    t.equal((await s.uac.nextResponse(call, 200)).status, 487);
    release();
    await settle();
    t.equal(called, 0, 'nothing to hand over');
    t.equal(s.proxy.proxy.stats().contexts, 0);
  },
);

t.test('proxy delegate: a handler that throws leaves the caller a 500', async (t) => {
  const s = await scene(t, {
    route: () =>
      Promise.resolve<RouteDecision>({
        action: 'delegate',
        handler: () => {
          throw new Error('boom');
        },
      }),
  });
  const [uas] = s.uas as [typeof s.uac];
  const sent = s.uac.send(buildRequest({ method: 'OPTIONS', uri: uas.uri() }), s.proxy.target());
  t.equal((await s.uac.nextResponse(sent, 200)).status, 500);
});

t.test(
  'proxy: an INVITE answered by the routing decision gets its final response without a 100 (Trying)',
  async (t) => {
    const s = await scene(t, {
      route: () => Promise.resolve<RouteDecision>({ action: 'reject', status: 407 }),
    });
    const [uas] = s.uas as [typeof s.uac];
    const call = s.uac.send(buildRequest({ uri: uas.uri() }), s.proxy.target());
    t.equal((await s.uac.nextResponse(call, 100)).status, 407, 'the first response is the final');
    s.clock.advance(TRYING_DELAY_MS);
    await settle();
    t.equal(uas.requests.size, 0);
  },
);
