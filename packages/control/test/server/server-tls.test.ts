import t from 'tap';
import { createEndpoint } from '@switchboard/sip-stack';
import { runCli } from '../../src/cli/run-cli.js';
import { DOMAIN } from '../edge/support/edge-fixture.js';
import {
  cliIo,
  getText,
  hasOpenssl,
  localFlags,
  sample,
  selfSignedCert,
  tempDir,
} from './support/server-fixture.js';

t.test(
  'TLS and WSS listen with the configured certificate; a device registers over TLS',
  { skip: hasOpenssl() ? false : 'openssl is not installed' },
  async (t) => {
    const dir = tempDir(t);
    const { cert, key } = selfSignedCert(dir);
    const s = cliIo({ SWITCHBOARD_SIP_TLS_CERT: cert, SWITCHBOARD_SIP_TLS_KEY: key });
    const r = await runCli(
      ['start', ...localFlags(dir), '--sip-tls-port', '0', '--sip-wss-port', '0'],
      s.io,
    );
    const server = r.server;
    if (server === undefined) return t.fail(s.err.join(''));
    t.teardown(() => server.stop());
    t.match(
      s.out.join(''),
      /SIP listening on udp 127\.0\.0\.1:\d+, tcp 127\.0\.0\.1:\d+, tls 127\.0\.0\.1:\d+, wss 127\.0\.0\.1:\d+;/,
    );
    const points = server.edge?.node?.listeningPoints() ?? [];
    const tls = points.find((p) => p.protocol === 'tls');
    const wss = points.find((p) => p.protocol === 'wss');
    if (tls === undefined || wss === undefined) return t.fail('no TLS or WSS listening point');
    const password = /user 1001\s+password (\S+)/.exec(s.out.join(''))?.[1] ?? '';

    const ua = await createEndpoint({
      listen: [{ protocol: 'tcp', address: '127.0.0.1', port: 0 }],
      contactUser: '1001',
      from: `<sip:1001@${DOMAIN}>`,
      credentials: { username: '1001', password },
      transport: { tlsClient: { caFile: cert } },
    });
    t.teardown(() => ua.close());
    const reg = await ua.request({
      method: 'REGISTER',
      uri: `sip:${DOMAIN}`,
      from: `<sip:1001@${DOMAIN}>`,
      to: `<sip:1001@${DOMAIN}>`,
      target: {
        protocol: 'tls',
        address: '127.0.0.1',
        port: tls.local.port,
        serverName: 'localhost',
      },
      headers: { Expires: '300' },
    });
    t.equal(reg.status, 200, 'REGISTER with digest over TLS, the certificate verified');
    const options = await ua.request({
      method: 'OPTIONS',
      uri: 'sip:127.0.0.1',
      from: `<sip:1001@${DOMAIN}>`,
      to: '<sip:127.0.0.1>',
      target: {
        protocol: 'wss',
        address: '127.0.0.1',
        port: wss.local.port,
        serverName: 'localhost',
      },
    });
    t.equal(options.status, 200, 'OPTIONS over secure WebSocket');
    const m = await getText(`http://127.0.0.1:${server.httpPort}/metrics`);
    t.ok((sample(m.text, 'switchboard_sip_messages_received_total', 'transport="tls"') ?? 0) >= 2);
    t.ok((sample(m.text, 'switchboard_sip_messages_received_total', 'transport="wss"') ?? 0) >= 1);
  },
);
