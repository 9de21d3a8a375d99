/**
 * The Redis location service across two `switchboard start` processes sharing one data directory:
 * a user registers on the first, is called through the second.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createEndpoint, type SipEndpoint } from '@switchboard/sip-stack';
import { loadMasterKey } from '../../src/store/master-key.js';
import { openDatabase } from '../../src/store/sqlite/open-database.js';
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-config-store.js';
import { DOMAIN, closedCdr, knownFlag } from './support/e2e-server.js';
import { freePort } from './support/free-port.js';
import { startRedis, startServerProcess } from './support/server-process.js';
import { skipBecause } from './support/sipp-peers.js';

const SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

function ua(user: string, password: string): Promise<SipEndpoint> {
  return createEndpoint({
    listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }],
    contactUser: user,
    from: `<sip:${user}@${DOMAIN}>`,
    credentials: { username: user, password },
  });
}

t.test('register on one server process, be called through another (Redis location)', async (t) => {
  if (!knownFlag('--location-redis'))
    return skipBecause(t, 'config key location.redis (flag --location-redis) does not exist yet');
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-e2e-redis-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const redisPort = await freePort();
  await startRedis(t, redisPort);
  const flags = (rtp: number): string[] => [
    ...['--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--log-level', 'warn'],
    ...['--sip-host', '127.0.0.1', '--sip-udp-port', '0', '--sip-tcp-port', 'off'],
    ...['--sip-ws-port', 'off', '--sip-tls-port', 'off', '--sip-wss-port', 'off'],
    ...['--media-mode', 'always', '--rtp-min', String(rtp), '--rtp-max', String(rtp + 99)],
    ...['--location-redis', `redis://127.0.0.1:${redisPort}`],
  ];
  const base = 20000 + 400 * Math.floor(Math.random() * 20);
  // The first start seeds the demo account and prints the passwords; the second shares the data.
  const a = await startServerProcess(t, flags(base));
  const b = await startServerProcess(t, flags(base + 200));
  const passwords: Record<string, string> = {};
  for (const m of a.output().matchAll(/user (\d+)\s+password (\S+)/g))
    passwords[m[1] as string] = m[2] as string;
  const portA = a.sipPorts['udp'];
  const portB = b.sipPorts['udp'];
  if (portA === undefined || portB === undefined) throw new Error('no UDP SIP port printed');

  const callee = await ua('1002', passwords['1002'] ?? '');
  const caller = await ua('1001', passwords['1001'] ?? '');
  t.teardown(() => Promise.all([callee.close(), caller.close()]));
  const reg = await callee.request({
    method: 'REGISTER',
    uri: `sip:${DOMAIN}`,
    to: `<sip:1002@${DOMAIN}>`,
    target: { protocol: 'udp', address: '127.0.0.1', port: portA },
    headers: { Expires: '300' },
  });
  t.equal(reg.status, 200, '1002 registered on server A');

  let invitedFrom = 0;
  callee.onRequest('INVITE', (req) => {
    invitedFrom = req.flow.remote.port;
    req.progress(180);
    req.accept({ body: SDP, contentType: 'application/sdp' });
  });
  const { dialog, response } = await caller.invite({
    uri: `sip:1002@${DOMAIN}`,
    route: [`<sip:127.0.0.1:${portB};lr>`],
    body: SDP,
    contentType: 'application/sdp',
    timeoutMs: 10_000,
  });
  t.equal(response.status, 200, '1001 → 1002 through server B answered');
  t.equal(invitedFrom, portB, 'server B delivered the INVITE: it found 1002 in Redis');
  t.equal((await dialog.bye()).status, 200, 'BYE answered');

  const key = loadMasterKey(dataDir);
  if (!key.ok) throw key.error;
  const store = new SqliteConfigStore({ db: openDatabase({ dataDir }), masterKey: key.value });
  t.teardown(() => store.close());
  t.equal(
    (await closedCdr({ server: { store } as never }, response.callId))?.disposition,
    'answered',
    'server B recorded the CDR: answered',
  );
});
