/**
 * A call over TLS. SIPp as packaged by Debian is built without TLS (`-t l1` is missing), so both
 * users are sip-stack endpoints on TLS flows, trusting a self-signed certificate made at test time.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { createEndpoint, type SipEndpoint } from '@switchboard/sip-stack';
import { DOMAIN, closedCdr, knownFlag, startE2eServer } from './e2e-server.js';
import { skipBecause } from './sipp-peers.js';

export interface SelfSigned {
  certFile: string;
  keyFile: string;
}

/** A P-256 certificate for 127.0.0.1 and localhost, valid one day, removed in teardown. */
export function selfSigned(t: Test): SelfSigned {
  const dir = mkdtempSync(join(tmpdir(), 'sb-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile };
}

function tlsUa(user: string, password: string, cert: SelfSigned): Promise<SipEndpoint> {
  return createEndpoint({
    listen: [{ protocol: 'tls', address: '127.0.0.1', port: 0, tls: cert }],
    contactUser: user,
    from: `<sip:${user}@${DOMAIN}>`,
    credentials: { username: user, password },
    transport: { tlsClient: { caFile: cert.certFile } },
  });
}

const SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

export async function tlsCall(t: Test): Promise<void> {
  if (!knownFlag('--sip-tls-cert')) {
    skipBecause(
      t,
      'TLS listener: config key sip.tls.cert (flag --sip-tls-cert) does not exist yet',
    );
    return;
  }
  const cert = selfSigned(t);
  const fx = await startE2eServer({
    // sip-stack endpoints answer SHA-256 (RFC 8760), unlike SIPp.
    digestAlgorithms: 'SHA-256,MD5',
    flags: {
      '--sip-tls-port': '0',
      '--sip-tls-cert': cert.certFile,
      '--sip-tls-key': cert.keyFile,
    },
  });
  t.teardown(() => fx.close());
  const tlsPort = fx.ports.tls;
  if (tlsPort === undefined) {
    skipBecause(t, 'sip.tls.cert / sip.tls.key are accepted but the edge opened no TLS listener');
    return;
  }
  const a = await tlsUa('1001', fx.passwords['1001'] ?? '', cert);
  const b = await tlsUa('1002', fx.passwords['1002'] ?? '', cert);
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const server = { protocol: 'tls' as const, address: '127.0.0.1', port: tlsPort };
  const reg = await b.request({
    method: 'REGISTER',
    uri: `sip:${DOMAIN}`,
    to: `<sip:1002@${DOMAIN}>`,
    target: server,
    headers: { Expires: '300' },
  });
  t.equal(reg.status, 200, '1002 registered over TLS');
  const binding = (await fx.node.registrar.lookup(`sip:1002@${DOMAIN}`))[0];
  t.equal(binding?.target?.protocol, 'tls', 'the binding is reached over TLS');

  let invited = '';
  b.onRequest('INVITE', (req) => {
    invited = req.request.topVia?.transport ?? '';
    req.progress(180);
    req.accept({ body: SDP, contentType: 'application/sdp' });
  });
  const { dialog, response } = await a.invite({
    uri: `sip:1002@${DOMAIN}`,
    route: [`<sip:127.0.0.1:${tlsPort};transport=tls;lr>`],
    body: SDP,
    contentType: 'application/sdp',
    timeoutMs: 10_000,
  });
  t.equal(response.status, 200, '1001 → 1002 answered');
  t.equal(invited, 'TLS', 'the proxy reached 1002 over TLS');
  // 1002's Contact names its TLS listening port; a new connection there would fail on the
  // self-signed certificate (the edge trusts the system roots only). The edge aliased the Contact
  // with the flow 1002 was called on and sends the BYE over that connection (RFC 5923 reuse).
  t.match(
    dialog.dialog.remoteTarget,
    /;alias=127\.0\.0\.1~\d+~3/,
    'the 200’s Contact names the flow',
  );
  t.equal((await dialog.bye()).status, 200, 'BYE answered by 1002 over its own TLS flow');
  const cdr = await closedCdr(fx, response.callId);
  t.equal(cdr?.disposition, 'answered', 'the CDR says answered');
}
