import t from 'tap';
import { clusterCallId } from '../../src/cluster/call-id-owner.js';
import { startClusterFixture } from './support/cluster-fixture.js';
import { RawUa, registerUa } from './support/raw-ua.js';

t.test('two SIP workers over TCP', async (t) => {
  const f = await startClusterFixture();
  t.teardown(() => f.close());
  const tcp0 = f.port(0, 'tcp');
  const p1 = f.port(1, 'udp');
  const tcpUa = await RawUa.tcp('1001', f.passwords['1001'] ?? '', tcp0);
  const caller = await RawUa.udp('1002', f.passwords['1002'] ?? '');
  t.teardown(() => {
    tcpUa.close();
    caller.close();
  });

  await t.test(
    "worker 1's responses reach a UA over the TCP connection worker 0 accepted",
    async (t) => {
      // owned by worker 1: worker 0 reads it from its connection and hands it over
      const ok = await registerUa(tcpUa, tcp0, clusterCallId(1));
      t.equal(ok.status, 200, 'the 401 and the 200 came back over the TCP flow');
      const w0 = await f.until(0, (s) => s.remoteWrites >= 2);
      t.ok(w0.remoteWrites >= 2, 'worker 0 wrote worker 1 responses on its connection');
      t.equal((await f.until(0, (s) => s.bindings === 1)).bindings, 1);
      t.equal((await f.until(1, (s) => s.bindings === 1)).bindings, 1);
    },
  );

  await t.test(
    'a call routed by worker 1 reaches the contact registered over worker 0 connection',
    async (t) => {
      const callId = clusterCallId(1);
      const invite = caller.request('INVITE', '1001', callId, 1);
      caller.send(invite, p1);
      const challenge = await caller.response(callId, 'INVITE', (s) => s === 407);
      caller.send(caller.authorize(invite, challenge), p1);
      const incoming = await tcpUa.requestIn('INVITE', callId);
      t.match(incoming.topVia?.transport, 'TCP', 'the INVITE left over the TCP flow');
      tcpUa.reply(incoming, 486, tcp0);
      t.equal((await caller.response(callId, 'INVITE', (s) => s >= 300)).status, 486);
    },
  );

  await t.test('the binding dies with the connection on every worker (RFC 5626 §6)', async (t) => {
    tcpUa.close();
    t.equal((await f.until(0, (s) => s.bindings === 0)).bindings, 0);
    t.equal((await f.until(1, (s) => s.bindings === 0)).bindings, 0);
  });
});
