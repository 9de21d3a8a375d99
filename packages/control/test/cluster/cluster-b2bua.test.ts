// B2BUA calls in a two-worker cluster: the legs and probes a worker starts carry Call-IDs it owns
// (clusterCallId), so the carrier's replies reach that worker whichever worker's port they arrive
// on. With random Call-IDs, about half of them went to a worker that knew nothing of the call.
import t from 'tap';
import { generateTag, type SipRequest } from '@switchboard/sip-stack';
import { clusterCallId, ownerOfCallId } from '../../src/cluster/call-id-owner.js';
import { create } from '../support/test-store.js';
import { startClusterFixture } from './support/cluster-fixture.js';
import { RawUa } from './support/raw-ua.js';

const sdp = (port: number): string =>
  `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\n`;

t.test('two workers run B2BUA calls to a trunk, replies arriving at either worker', async (t) => {
  const f = await startClusterFixture({
    '--sip-outbound': 'b2bua',
    '--media-mode': 'always',
    '--rtp-min': '42000',
    '--rtp-max': '42399',
  });
  t.teardown(() => f.close());
  const carrier = await RawUa.udp('carrier', '');
  const caller = await RawUa.udp('1001', f.passwords['1001'] ?? '');
  t.teardown(() => {
    carrier.close();
    caller.close();
  });
  const store = f.cluster.server.store;
  const account = store.db.prepare('SELECT id FROM account ORDER BY created_at LIMIT 1').get() as {
    id: string;
  };
  const trunk = await create(store, 'sip_trunk', {
    account_id: account.id,
    name: 'test carrier',
    proxy_host: '127.0.0.1',
    proxy_port: carrier.port,
  });
  await create(store, 'outbound_route', {
    account_id: account.id,
    name: 'to the carrier',
    prefix: '1555',
    trunks: [{ trunk_id: trunk }],
  });
  const port = [f.port(0, 'udp'), f.port(1, 'udp')];

  for (const owner of [0, 1]) {
    await t.test(
      `a call owned by worker ${owner}, sent to and answered at the other`,
      async (t) => {
        const other = port[1 - owner] ?? 0;
        const callId = clusterCallId(owner);
        const invite = caller.request('INVITE', '15551230000', callId, 1, {}, sdp(4000));
        caller.send(invite, other);
        const challenge = await caller.response(callId, 'INVITE', (s) => s === 407);
        const authed = caller.authorize(invite, challenge);
        caller.send(authed, other);

        const out: SipRequest = await carrier.requestIn('INVITE');
        t.not(out.callId, callId, 'the trunk leg has a Call-ID of its own');
        t.match(out.callId, new RegExp(`^sbw${owner}-`), 'made by the owner');
        t.equal(ownerOfCallId(out.callId, 2), owner);
        // the carrier answers towards the other worker, as SO_REUSEPORT may deliver it
        const toTag = generateTag();
        carrier.reply(out, 180, other, toTag);
        carrier.reply(out, 200, other, toTag, sdp(5000));
        const ok = await caller.response(callId, 'INVITE', (s) => s === 200);
        t.equal(ok.status, 200, 'the answer reached the caller through the owner');
        await carrier.requestIn('ACK', out.callId);

        const inDialog = (method: string, cseq: number): SipRequest => {
          const r = caller.request(method, '15551230000', callId, cseq);
          r.uri = ok.contacts[0]?.uri ?? r.uri;
          r.headers.set('To', ok.headers.get('To') ?? '');
          r.headers.set('From', authed.headers.get('From') ?? '');
          return r;
        };
        caller.send(inDialog('ACK', 2), other);
        caller.send(inDialog('BYE', 3), other);
        const bye = await carrier.requestIn('BYE', out.callId);
        carrier.reply(bye, 200, other);
        t.equal((await caller.response(callId, 'BYE')).status, 200, 'the BYE crossed both legs');
        t.equal((await f.until(owner, (s) => s.activeCalls === 0)).activeCalls, 0);
      },
    );
  }
});
