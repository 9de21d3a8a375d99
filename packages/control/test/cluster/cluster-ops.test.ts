import t from 'tap';
import { generateTag } from '@switchboard/sip-stack';
import { clusterCallId } from '../../src/cluster/call-id-owner.js';
import { startClusterFixture, type ClusterFixture } from './support/cluster-fixture.js';
import { RawUa, registerUa } from './support/raw-ua.js';

const SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

const get = async (f: ClusterFixture, path: string): Promise<{ status: number; text: string }> => {
  const res = await fetch(`http://127.0.0.1:${f.cluster.server.httpPort}${path}`);
  return { status: res.status, text: await res.text() };
};

/** Polls `probe` every 20 ms until it returns a value (at most `ms`). */
async function eventually<T>(ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('two SIP workers run as one node', async (t) => {
  const f = await startClusterFixture();
  t.teardown(() => f.close());
  const callee = await RawUa.udp('1002', f.passwords['1002'] ?? '');
  const caller = await RawUa.udp('1001', f.passwords['1001'] ?? '');
  t.teardown(() => {
    callee.close();
    caller.close();
  });

  await t.test('/metrics adds up what every worker counted', async (t) => {
    t.equal((await registerUa(callee, f.port(0, 'udp'), clusterCallId(0))).status, 200);
    t.equal((await registerUa(caller, f.port(1, 'udp'), clusterCallId(1))).status, 200);
    await f.until(0, (s) => s.bindings === 2);
    await f.until(1, (s) => s.bindings === 2);
    const m = await get(f, '/metrics');
    t.equal(m.status, 200);
    t.match(m.text, /^switchboard_sip_workers_up 2$/m);
    t.match(m.text, /^switchboard_registrations 2$/m, 'both workers see both; counted once');
    t.match(
      m.text,
      /^switchboard_sip_requests_received_total\{method="REGISTER"\} 4$/m,
      'two REGISTERs and their authenticated retries, one pair on each worker',
    );
    t.match(m.text, /^switchboard_sip_responses_sent_total\{class="4xx"\} 2$/m);
  });

  await t.test(
    'a worker that dies is replaced: /health is down meanwhile, the new one has the registrations and takes calls',
    async (t) => {
      const before = await f.cluster.inspect(1);
      process.kill(before.pid, 'SIGKILL');
      const down = await eventually(5000, async () => {
        const h = await get(f, '/health');
        return h.status === 503 ? h : undefined;
      });
      t.match(JSON.parse(down.text), { status: 'down', sip: 'down' });
      const after = await eventually(20_000, async () => {
        const s = await f.cluster.inspect(1);
        return s.pid !== before.pid ? s : undefined;
      });
      t.not(after.pid, before.pid, 'a new process');
      t.equal((await f.until(1, (s) => s.bindings === 2)).bindings, 2, 'copied from worker 0');
      t.equal((await get(f, '/health')).status, 200);
      t.match((await get(f, '/metrics')).text, /^switchboard_sip_worker_restarts_total 1$/m);

      const callId = clusterCallId(1);
      const port = f.port(1, 'udp');
      const invite = caller.request('INVITE', '1002', callId, 1, {}, SDP);
      caller.send(invite, port);
      const challenge = await caller.response(callId, 'INVITE', (s) => s === 407);
      caller.send(caller.authorize(invite, challenge), port);
      const incoming = await callee.requestIn('INVITE', callId);
      callee.reply(incoming, 486, port, generateTag());
      const busy = await caller.response(callId, 'INVITE', (s) => s >= 300);
      t.equal(busy.status, 486, 'the call reached the callee through the new worker');
    },
  );

  await t.test('drain: every worker answers new calls with 503', async (t) => {
    t.equal(await f.cluster.server.drain(2000), true, 'no calls to wait for');
    for (const w of [0, 1]) {
      const callId = clusterCallId(w);
      caller.send(caller.request('INVITE', '1002', callId, 1, {}, SDP), f.port(w, 'udp'));
      const r = await caller.response(callId, 'INVITE', (s) => s >= 300);
      t.equal(r.status, 503, `worker ${w}`);
    }
    t.match(JSON.parse((await get(f, '/health')).text), { status: 'draining' });
  });
});
