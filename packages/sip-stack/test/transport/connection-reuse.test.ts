/**
 * A request to the address and port a stream connection came from goes over that connection
 * (RFC 3261 §18.1.1 / RFC 5923: the peer's ephemeral port has no listener; a new connection there
 * would fail). This is what a Contact alias of a TCP/TLS UA relies on.
 */
import t, { type Test } from 'tap';
import { createRequest } from '../../src/message/build-request.js';
import { TransportLayer } from '../../src/transport/transport-layer.js';
import type { ListenSpec, TransportProtocol } from '../../src/transport/transport.js';
import { collect } from '../support/sip-peers.js';
import { generateTestCerts } from '../support/tls-certs.js';

const certs = generateTestCerts(['default.test']);
t.teardown(() => certs.cleanup());

function spec(protocol: 'tcp' | 'tls'): ListenSpec {
  const def = certs.get('default.test');
  return {
    protocol,
    address: '127.0.0.1',
    port: 0,
    ...(protocol === 'tls' ? { tls: { certFile: def.certFile, keyFile: def.keyFile } } : {}),
  };
}

function options(method: string, protocol: TransportProtocol) {
  return createRequest({
    method,
    uri: 'sip:ua@127.0.0.1',
    from: '<sip:a@example.test>;tag=1',
    to: '<sip:b@example.test>',
    callId: `reuse-${protocol}-${method}`,
    cseq: 1,
  });
}

async function reuse(t: Test, protocol: 'tcp' | 'tls'): Promise<void> {
  const server = new TransportLayer({});
  t.teardown(() => server.close());
  const lp = await server.listen(spec(protocol));
  const serverInbox = collect(server);
  // The client has no listening point at all: only the connection it opens can reach it.
  const client = new TransportLayer({
    tlsClient: { caFile: certs.get('default.test').certFile, rejectUnauthorized: false },
  });
  t.teardown(() => client.close());
  const clientInbox = collect(client);

  await client.send(options('REGISTER', protocol), {
    protocol,
    address: '127.0.0.1',
    port: lp.local.port,
  });
  const inbound = await serverInbox.next();
  const remote = inbound.flow.remote;
  t.not(remote.port, lp.local.port, 'the client came from an ephemeral port');

  // No flowId: only the remote address and port, as a Contact alias names them.
  const flow = await server.send(options('OPTIONS', protocol), { protocol, ...remote });
  t.equal(flow.flowId, inbound.flow.flowId, 'sent over the connection the client opened');
  const got = await clientInbox.next();
  t.equal(got.message.kind === 'request' && got.message.method, 'OPTIONS', 'the client got it');
  t.equal(server.stats().connections.connected, 0, 'the server opened no connection');
}

t.test('TCP: a request to an inbound connection’s remote address reuses it', (t) =>
  reuse(t, 'tcp'),
);
t.test('TLS: a request to an inbound connection’s remote address reuses it', (t) =>
  reuse(t, 'tls'),
);
