/** An outbound route with two trunks: the first gateway refuses (503), the call completes on the second. */
import t from 'tap';
import { closedCdr, startE2eServer } from './support/e2e-server.js';
import { freePort } from './support/free-port.js';
import { countOf } from './support/sipp.js';
import { callIdPrefix, callSipp, sippPassed, startCallee } from './support/sipp-peers.js';

t.test('a trunk that answers 503 fails over to the second gateway of the route', async (t) => {
  const fx = await startE2eServer();
  t.teardown(() => fx.close());
  const store = fx.server.store;
  const [gw1, gw2] = [await freePort(), await freePort()];
  const trunk = async (name: string, port: number): Promise<string> => {
    const r = await store.table('sip_trunk').create({
      account_id: fx.accountId,
      name,
      proxy_host: '127.0.0.1',
      proxy_port: port,
      transport: 'udp',
    });
    if (!r.ok) throw new Error(r.error.message);
    return String(r.value.row['id']);
  };
  const first = await trunk('gateway 1', gw1);
  const second = await trunk('gateway 2', gw2);
  const route = await store.table('outbound_route').create({
    account_id: fx.accountId,
    name: 'everything',
    prefix: '',
    trunks: [{ trunk_id: first }, { trunk_id: second }],
  });
  if (!route.ok) throw new Error(route.error.message);

  const refusing = await startCallee(t, {
    scenario: 'uas-unavailable.xml',
    port: gw1,
    timeoutMs: 10_000,
  });
  const answering = await startCallee(t, {
    scenario: 'uas-answer.xml',
    port: gw2,
    timeoutMs: 10_000,
  });
  const callId = callIdPrefix('trunk');
  const uac = await callSipp({
    proxy: `127.0.0.1:${fx.ports.udp}`,
    port: await freePort(),
    user: '1001',
    password: fx.passwords['1001'] ?? '',
    callee: '15550001111',
    callId,
    timeoutMs: 10_000,
  });
  const [g1, g2] = await Promise.all([refusing.done, answering.done]);
  sippPassed(t, uac, 'caller');
  sippPassed(t, g1, 'gateway 1 (503)');
  sippPassed(t, g2, 'gateway 2 (answers)');
  t.equal(countOf(g1, 'received', 'INVITE'), 1, 'the first gateway was tried first');
  t.equal(countOf(g1, 'received', 'ACK'), 1, 'its 503 was acknowledged');
  t.equal(countOf(g2, 'received', 'INVITE'), 1, 'then the second gateway got the call');
  t.match(g2.messages, /INVITE sip:\+?1?5550001111@127\.0\.0\.1/, 'for the dialled number');
  t.equal(countOf(g2, 'received', 'BYE'), 1, 'and the caller’s BYE');
  t.equal(countOf(uac, 'received', '503'), 0, 'the caller never saw the 503');
  const cdr = await closedCdr(fx, `${callId}1`);
  t.equal(cdr?.disposition, 'answered', 'the CDR says answered');
  t.equal(cdr?.direction, 'outbound', 'an outbound call');
});
