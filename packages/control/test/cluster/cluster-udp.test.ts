import t from 'tap';
import { generateTag } from '@switchboard/sip-stack';
import { clusterCallId, ownerOfCallId } from '../../src/cluster/call-id-owner.js';
import { startClusterFixture } from './support/cluster-fixture.js';
import { RawUa, registerUa } from './support/raw-ua.js';

const SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

t.test('two SIP workers over UDP', async (t) => {
  const f = await startClusterFixture();
  t.teardown(() => f.close());
  const p0 = f.port(0, 'udp');
  const p1 = f.port(1, 'udp');
  t.not(p0, p1, 'each worker listens on its own port in this fixture');
  const callee = await RawUa.udp('1002', f.passwords['1002'] ?? '');
  const caller = await RawUa.udp('1001', f.passwords['1001'] ?? '');
  t.teardown(() => {
    callee.close();
    caller.close();
  });

  await t.test('a REGISTER handled by one worker is visible to the other', async (t) => {
    const callId = clusterCallId(0);
    t.equal(ownerOfCallId(callId, 2), 0);
    const ok = await registerUa(callee, p0, callId);
    t.equal(ok.status, 200);
    t.equal((await f.until(0, (s) => s.bindings === 1)).bindings, 1);
    t.equal((await f.until(1, (s) => s.bindings === 1)).bindings, 1, 'replicated to worker 1');
    t.equal((await f.cluster.inspect(0)).forwarded, 0, 'owned here: nothing forwarded');
  });

  await t.test(
    'an INVITE sent to the non-owner, whose responses also arrive there, completes at the owner, and its BYE ends the call there',
    async (t) => {
      const callId = clusterCallId(1);
      const invite = caller.request('INVITE', '1002', callId, 1, {}, SDP);
      caller.send(invite, p0);
      const challenge = await caller.response(callId, 'INVITE', (s) => s === 407);
      const authed = caller.authorize(invite, challenge);
      caller.send(authed, p0);
      // INVITE ×2, 180, 200, ACK, BYE, 200: 7 messages read by worker 0.
      // the callee answers towards worker 0, which does not own the call
      const incoming = await callee.requestIn('INVITE', callId);
      const toTag = generateTag();
      callee.reply(incoming, 180, p0, toTag);
      t.equal((await caller.response(callId, 'INVITE', (s) => s === 180)).status, 180);
      callee.reply(incoming, 200, p0, toTag, SDP);
      const ok = await caller.response(callId, 'INVITE', (s) => s === 200);
      t.equal(ok.status, 200, 'the 200 read by worker 0 reached the owner and the caller');
      t.equal(
        (await f.until(1, (s) => s.activeCalls === 1)).activeCalls,
        1,
        'worker 1 holds the call',
      );
      t.equal((await f.cluster.inspect(0)).activeCalls, 0);

      const route = ok.headers.getAll('Record-Route').reverse().join(', ');
      const dialog = (method: string, cseq: number) => {
        const r = caller.request(
          method,
          '1002',
          callId,
          cseq,
          route === '' ? {} : { Route: route },
        );
        r.uri = ok.contacts[0]?.uri ?? r.uri; // RFC 3261 §12.2.1.1: the remote target
        r.headers.set('To', ok.headers.get('To') ?? '');
        r.headers.set('From', authed.headers.get('From') ?? '');
        return r;
      };
      caller.send(dialog('ACK', 2), p0);
      await callee.requestIn('ACK', callId);
      caller.send(dialog('BYE', 3), p0);
      const bye = await callee.requestIn('BYE', callId);
      callee.reply(bye, 200, p0);
      t.equal((await caller.response(callId, 'BYE')).status, 200);
      t.equal(
        (await f.until(1, (s) => s.activeCalls === 0)).activeCalls,
        0,
        'the BYE ended the call at its owner',
      );
      const w0 = await f.cluster.inspect(0);
      const w1 = await f.cluster.inspect(1);
      t.ok(w0.forwarded >= 7, `worker 0 forwarded every message of the call (${w0.forwarded})`);
      t.ok(w1.injected >= 7, `worker 1 received them (${w1.injected})`);
      t.equal(w0.meshDropped, 0);
    },
  );
});
