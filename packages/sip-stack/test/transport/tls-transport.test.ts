import t from 'tap';
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { createResponse } from '../../src/message/build-response.js';
import { TransportLayer } from '../../src/transport/transport-layer.js';
import { responseTarget } from '../../src/transport/via-stamping.js';
import type { ListenSpec } from '../../src/transport/transport.js';
import {
  collect,
  countResponses,
  parseRequestText,
  sipRequest,
  wrapTcpPeer,
} from '../support/sip-peers.js';
import { generateTestCerts } from '../support/tls-certs.js';

const certs = generateTestCerts(['default.test', 'a.example.test', 'star.wild.test']);
t.teardown(() => certs.cleanup());
const ca = [...certs.byHost.values()].map((c) => c.cert);

function tlsSpec(address = '127.0.0.1'): ListenSpec {
  const def = certs.get('default.test');
  const a = certs.get('a.example.test');
  const wild = certs.get('star.wild.test');
  return {
    protocol: 'tls',
    address,
    port: 0,
    tls: {
      certFile: def.certFile,
      keyFile: def.keyFile,
      sni: {
        'a.example.test': { certFile: a.certFile, keyFile: a.keyFile },
        '*.wild.test': { certFile: wild.certFile, keyFile: wild.keyFile },
      },
    },
  };
}

async function tlsClient(
  port: number,
  servername: string | undefined,
  host = '127.0.0.1',
): Promise<TLSSocket> {
  const socket = tlsConnect({
    host,
    port,
    ca,
    ...(servername === undefined ? {} : { servername }),
    rejectUnauthorized: false,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

t.test(
  'TLS: the certificate is chosen by the client server name (SNI), the default otherwise',
  async (t) => {
    const tl = new TransportLayer();
    t.teardown(() => tl.close());
    const lp = await tl.listen(tlsSpec());
    const cases: [string | undefined, string][] = [
      ['a.example.test', 'a.example.test'],
      ['x.wild.test', 'star.wild.test'],
      ['unknown.test', 'default.test'],
      [undefined, 'default.test'],
    ];
    for (const [servername, cn] of cases) {
      const s = await tlsClient(lp.local.port, servername);
      t.equal(s.getPeerCertificate().subject.CN, cn, `server name ${servername ?? '(none)'}`);
      s.destroy();
    }
  },
);

for (const host of ['127.0.0.1', '::1']) {
  t.test(
    `TLS ${host}: a request is delivered over TLS and the response returns on the same connection`,
    async (t) => {
      const tl = new TransportLayer();
      t.teardown(() => tl.close());
      const lp = await tl.listen(tlsSpec(host));
      const inbox = collect(tl);
      const socket = await tlsClient(lp.local.port, 'a.example.test', host);
      t.teardown(() => void socket.destroy());
      const peer = wrapTcpPeer(socket);
      peer.write(
        sipRequest({
          via: 'SIP/2.0/TLS client.example.test;branch=z9hG4bKtls1',
          body: 'secret',
          method: 'MESSAGE',
        }),
      );
      const got = await inbox.next();
      t.equal(got.flow.protocol, 'tls');
      t.equal(got.message.body.toString(), 'secret');
      t.equal(got.message.topVia?.received, host);
      if (got.message.kind !== 'request') throw new Error('expected a request');
      await tl.send(createResponse(got.message, 202), responseTarget(got.message, got.flow));
      await peer.waitFor((s) => countResponses(s, 202) === 1);
      t.equal(tl.stats().received.tls, 1);
      t.equal(tl.stats().sent.tls, 1);
    },
  );
}

t.test(
  'TLS: a handshake failure (plain text on the TLS port) is counted and the layer keeps serving',
  async (t) => {
    const tl = new TransportLayer();
    t.teardown(() => tl.close());
    const lp = await tl.listen(tlsSpec());
    const inbox = collect(tl);
    const raw = netConnect({ host: '127.0.0.1', port: lp.local.port });
    raw.on('error', () => undefined);
    const rawClosed = new Promise((r) => raw.on('close', r));
    raw.write(sipRequest());
    await rawClosed;
    t.ok(tl.stats().socketErrors >= 1);
    const socket = await tlsClient(lp.local.port, 'a.example.test');
    t.teardown(() => void socket.destroy());
    socket.write(sipRequest({ callId: 'after-bad-handshake' }));
    t.equal((await inbox.next()).message.callId, 'after-bad-handshake');
  },
);

t.test(
  'TLS send: a layer connects out with SNI, verifies the server certificate, and fills Via with TLS',
  async (t) => {
    const server = new TransportLayer();
    const serverCert = certs.get('a.example.test');
    const client = new TransportLayer({ tlsClient: { caFile: serverCert.certFile } });
    t.teardown(async () => {
      await client.close();
      await server.close();
    });
    const lp = await server.listen(tlsSpec());
    const clp = await client.listen({
      ...tlsSpec(),
      tls: { certFile: serverCert.certFile, keyFile: serverCert.keyFile },
    });
    const inbox = collect(server);
    const flow = await client.send(
      parseRequestText(sipRequest({ via: 'SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKtout' })),
      {
        protocol: 'tls',
        address: '127.0.0.1',
        port: lp.local.port,
        serverName: 'a.example.test',
      },
    );
    t.equal(flow.protocol, 'tls');
    const got = await inbox.next();
    t.equal(got.message.topVia?.transport, 'TLS');
    t.equal(got.message.topVia?.port, clp.local.port);

    const strict = new TransportLayer({ tlsClient: { caFile: serverCert.certFile } });
    t.teardown(() => strict.close());
    await t.rejects(
      strict.send(parseRequestText(sipRequest()), {
        protocol: 'tls',
        address: '127.0.0.1',
        port: lp.local.port,
        serverName: 'unknown.test',
      }),
      { code: 'SIP_ERR_CONNECT' },
      'a server certificate that does not verify for that name is refused',
    );
  },
);

t.test('TLS listen: an unreadable certificate file rejects with SIP_ERR_TLS_CONFIG', async (t) => {
  const tl = new TransportLayer();
  t.teardown(() => tl.close());
  await t.rejects(
    tl.listen({
      protocol: 'tls',
      address: '127.0.0.1',
      port: 0,
      tls: { certFile: `${certs.dir}/missing.crt`, keyFile: `${certs.dir}/missing.key` },
    }),
    { code: 'SIP_ERR_TLS_CONFIG' },
  );
});
