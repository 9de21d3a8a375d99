import t from 'tap';
import { attachEndpoint, type SipEndpoint } from '../../src/endpoint/sip-endpoint.js';
import { EndpointError } from '../../src/endpoint/endpoint-error.js';
import type { IncomingRequest } from '../../src/endpoint/incoming-request.js';
import { createRequest } from '../../src/message/build-request.js';
import { createResponse } from '../../src/message/build-response.js';
import { SipProxy } from '../../src/proxy/proxy.js';
import type { RouteDecision } from '../../src/proxy/route-decision.js';
import { TransactionLayer } from '../../src/transaction/transaction-layer.js';
import type { TransactionUser } from '../../src/transaction/transaction-user.js';
import { TransportLayer } from '../../src/transport/transport-layer.js';
import type { Target } from '../../src/transport/transport.js';
import { nextEvent, startEndpoint, uriOf, type Teardown } from '../support/endpoint-harness.js';

const OFFER =
  'v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const ANSWER =
  'v=0\r\no=b 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n';

interface Node {
  transport: TransportLayer;
  /** The endpoint attached to the node's layers. */
  ua: SipEndpoint;
  proxy: SipProxy;
  target: Target;
  /** INVITEs the proxy delegated to the endpoint. */
  adopted: IncomingRequest[];
  /** What the node's dispatcher sent to the proxy. */
  toProxy: string[];
}

/**
 * A proxy node (transport → transactions → dispatcher) whose routing hands requests for user
 * `b2b` to an attached endpoint, and whose dispatcher gives the endpoint what it owns.
 */
async function startNode(t: Teardown): Promise<Node> {
  const transport = new TransportLayer({});
  await transport.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
  const transactions = new TransactionLayer({ transport });
  transport.onMessage((m) => transactions.receive(m));
  const ua = attachEndpoint({ transport, transactions });
  const adopted: IncomingRequest[] = [];
  const toProxy: string[] = [];
  const proxy = new SipProxy({
    transactions,
    transport,
    route: (request) =>
      Promise.resolve<RouteDecision>(
        /^sip:b2b@/.test(request.uri)
          ? {
              action: 'delegate',
              handler: (tx, incoming) => {
                const req = ua.adopt(tx, incoming);
                if (req !== undefined) adopted.push(req);
              },
            }
          : { action: 'forward', targets: [[{ uri: request.uri }]] },
      ),
  });
  const core = ua.transactionUser;
  const dispatcher: TransactionUser = {
    onRequest: (tx, incoming) => {
      if (ua.ownsRequest(tx.request)) return core.onRequest(tx, incoming);
      toProxy.push(tx.request.method);
      proxy.onRequest(tx, incoming);
    },
    onStrayAck: (incoming) => {
      const m = incoming.message;
      if (m.kind === 'request' && ua.ownsRequest(m)) return core.onStrayAck(incoming);
      proxy.onStrayAck(incoming);
    },
    onStrayResponse: (incoming) => {
      const m = incoming.message;
      if (m.kind === 'response' && ua.ownsResponse(m)) return core.onStrayResponse(incoming);
      proxy.onStrayResponse(incoming);
    },
  };
  transactions.setUser(dispatcher);
  t.teardown(async () => {
    await ua.close();
    transactions.dispose();
    await transport.close();
  });
  const lp = transport.listeningPoints()[0];
  if (lp === undefined) throw new Error('node has no listening point');
  return {
    transport,
    ua,
    proxy,
    target: { protocol: 'udp', address: '127.0.0.1', port: lp.local.port },
    adopted,
    toProxy,
  };
}

function nodeUri(node: Node, user: string): string {
  return `sip:${user}@127.0.0.1:${node.target.port}`;
}

async function firstAdopted(node: Node): Promise<IncomingRequest> {
  for (let i = 0; i < 500 && node.adopted.length === 0; i++)
    await new Promise((r) => setTimeout(r, 5));
  const req = node.adopted[0];
  if (req === undefined) throw new Error('nothing was delegated');
  return req;
}

t.test(
  'attached endpoint: a delegated INVITE is answered by it; ACK and BYE of its dialog reach it, not the proxy',
  async (t) => {
    const node = await startNode(t);
    const caller = await startEndpoint(t, 'udp');
    t.equal(node.ua.attached, true);
    t.same(node.ua.listeningPoints(), node.transport.listeningPoints(), "the host's points");
    const call = caller.invite({
      uri: nodeUri(node, 'b2b'),
      body: OFFER,
      contentType: 'application/sdp',
    });
    const incoming = await firstAdopted(node);
    t.equal(incoming.request.body.toString(), OFFER);
    incoming.progress(180);
    const uas = incoming.accept({ body: ANSWER, contentType: 'application/sdp' });
    const acked = nextEvent(uas, 'ack');
    const { dialog, response } = await call;
    t.equal(response.status, 200);
    t.equal(dialog.remoteBody?.toString(), ANSWER);
    await acked;
    const bye = nextEvent(uas, 'bye');
    t.equal((await dialog.bye()).status, 200, 'the attached endpoint answered the BYE');
    await bye;
    t.same(node.toProxy, ['INVITE'], 'only the initial INVITE went through the proxy');
    t.equal(node.proxy.stats().contexts, 0);
  },
);

t.test(
  'attached endpoint: the CANCEL of a delegated INVITE is its own (RFC 3261 §9.2)',
  async (t) => {
    const node = await startNode(t);
    const caller = await startEndpoint(t, 'udp');
    const call = caller.invite({
      uri: nodeUri(node, 'b2b'),
      body: OFFER,
      contentType: 'application/sdp',
    });
    const failed = call.then(
      () => undefined,
      (err: unknown) => (err instanceof EndpointError ? err.status : -1),
    );
    const incoming = await firstAdopted(node);
    const cancelled = nextEvent(incoming, 'cancel');
    incoming.progress(180);
    await nextEvent(call, 'provisional');
    call.cancel();
    await cancelled;
    t.equal(await failed, 487, 'the INVITE got 487 from the endpoint');
    t.equal(incoming.finalResponse?.status, 487);
    t.same(node.toProxy, ['INVITE'], 'the CANCEL did not go to the proxy');
  },
);

t.test(
  'attached endpoint: calls out through the shared layers; the callee BYE and a stray 2xx are recognised as its own',
  async (t) => {
    const node = await startNode(t);
    const callee = await startEndpoint(t, 'udp');
    callee.onRequest('INVITE', (req) => {
      req.accept({ body: ANSWER, contentType: 'application/sdp' });
    });
    const { dialog, response } = await node.ua.invite({
      uri: uriOf(callee, 'bob'),
      body: OFFER,
      contentType: 'application/sdp',
    });
    t.equal(response.status, 200);
    t.ok(node.ua.ownsResponse(response), 'a 2xx of its INVITE is its own');
    const stranger = createRequest({
      method: 'INVITE',
      uri: uriOf(callee, 'bob'),
      from: '<sip:x@example.test>;tag=1',
      to: '<sip:bob@example.test>',
      callId: 'not-ours',
      cseq: 1,
    });
    t.notOk(node.ua.ownsResponse(createResponse(stranger, 200, undefined, { toTag: '2' })));
    const [calleeDialog] = callee.sessions;
    if (calleeDialog === undefined) throw new Error('callee has no dialog');
    const ended = nextEvent(dialog, 'terminated');
    t.equal((await calleeDialog.bye()).status, 200);
    t.same(await ended, ['remote-bye']);
    t.notOk(node.ua.ownsResponse(response), 'no dialog, no ownership');
    t.same(node.toProxy, [], 'nothing of the call went to the proxy');
  },
);

t.test(
  'attached endpoint: closing it leaves the shared transport open for the proxy',
  async (t) => {
    const node = await startNode(t);
    const callee = await startEndpoint(t, 'udp');
    const caller = await startEndpoint(t, 'udp');
    await node.ua.close();
    t.equal(node.ua.closed, true);
    t.equal(node.transport.listeningPoints().length, 1, 'still listening');
    const res = await caller.request({
      method: 'OPTIONS',
      uri: uriOf(callee, 'bob'),
      route: [`<sip:127.0.0.1:${node.target.port};lr>`],
    });
    t.equal(res.status, 200, 'the proxy still forwards');
    const refused = await caller.request({
      method: 'MESSAGE',
      uri: nodeUri(node, 'b2b'),
      body: 'hi',
      contentType: 'text/plain',
    });
    t.equal(refused.status, 503, 'a closed endpoint answers what is delegated to it with 503');
  },
);
