/** Calls between two registered users through the proxy of `switchboard start`, over UDP, TCP and TLS. */
import t, { type Test } from 'tap';
import { closedCdr, startE2eServer, type E2eServer } from './support/e2e-server.js';
import { freePort } from './support/free-port.js';
import { countOf } from './support/sipp.js';
import {
  callIdPrefix,
  callSipp,
  registerSipp,
  sippPassed,
  startCallee,
} from './support/sipp-peers.js';
import { tlsCall } from './support/tls-peers.js';

async function sippCall(t: Test, fx: E2eServer, transport: 'udp' | 'tcp'): Promise<void> {
  const p1001 = fx.passwords['1001'] ?? '';
  const p1002 = fx.passwords['1002'] ?? '';
  const calleePort = await freePort();
  const reg = await registerSipp({
    registrar: `127.0.0.1:${fx.ports.udp}`,
    user: '1002',
    password: p1002,
    port: calleePort,
    contactTransport: transport,
  });
  if (!sippPassed(t, reg, '1002 registers')) return;
  const uas = await startCallee(t, { scenario: 'uas-answer.xml', port: calleePort, transport });
  const callId = callIdPrefix(transport);
  const uac = await callSipp({
    proxy: `127.0.0.1:${fx.ports[transport]}`,
    transport,
    port: await freePort(),
    user: '1001',
    password: p1001,
    callee: '1002',
    callId,
  });
  const callee = await uas.done;
  sippPassed(t, uac, 'caller');
  sippPassed(t, callee, 'callee');
  t.equal(countOf(uac, 'received', '407'), 1, 'the caller was challenged with 407');
  t.equal(countOf(uac, 'sent', 'BYE'), 1, 'the caller hung up (its BYE answered 200: exit code 0)');
  t.equal(countOf(callee, 'received', 'INVITE'), 1, 'the callee got one INVITE');
  t.equal(countOf(callee, 'received', 'BYE'), 1, 'the caller’s BYE reached the callee');
  t.notMatch(callee.messages, /Proxy-Authorization/i, 'our credentials did not reach the callee');
  const cdr = await closedCdr(fx, `${callId}1`);
  t.equal(cdr?.disposition, 'answered', 'the CDR says answered');
  t.ok(cdr?.answered_at, 'with an answer time');
  t.equal(fx.node.calls.size, 0, 'no call left on the edge');
}

t.test('calls between registered users through the proxy', async (t) => {
  const fx = await startE2eServer();
  t.teardown(() => fx.close());

  await t.test('over UDP: 407, 180, 200, ACK, BYE, CDR answered', (t) => sippCall(t, fx, 'udp'));
  await t.test('over TCP: 407, 180, 200, ACK, BYE, CDR answered', (t) => sippCall(t, fx, 'tcp'));
});

t.test('a call over TLS (both users on TLS flows)', async (t) => {
  await tlsCall(t);
});
