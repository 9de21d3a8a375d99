import t, { type Test } from 'tap';
import { ManualClock, parseMessage, type Flow } from '@switchboard/sip-stack';
import { Redis } from 'ioredis';
import { Registrar, RedisLocationService } from '../../src/index.js';
import { makeBinding } from '../support/binding-factory.js';
import { locationContract } from '../support/location-contract.js';
import { findRedisServer, startRedisServer, type RedisServer } from '../support/redis-server.js';

const binary = findRedisServer();

if (binary === undefined) {
  t.comment('redis-server not found on PATH: the Redis location service tests are SKIPPED');
  t.test('redis location service', { skip: 'redis-server is not installed' }, () => {});
} else {
  let server: RedisServer;
  let n = 0;
  t.before(async () => {
    server = await startRedisServer(binary);
  });
  t.teardown(() => server.stop());

  const open = (
    t: Test,
    clock: ManualClock,
    extra: { namespace?: string; sweepIntervalMs?: number } = {},
  ): RedisLocationService => {
    const svc = new RedisLocationService({
      redis: server.url,
      clock,
      namespace: extra.namespace ?? `t${++n}:`,
      sweepIntervalMs: extra.sweepIntervalMs ?? 0,
    });
    t.teardown(() => svc.close());
    return svc;
  };

  t.test('redis location service: contract', (t) => {
    locationContract(t, (t, clock) => Promise.resolve(open(t, clock)));
    t.end();
  });

  t.test('redis location service: the sweep timer reports expired bindings', async (t) => {
    const clock = new ManualClock(1_700_000_000_000);
    const svc = open(t, clock, { sweepIntervalMs: 1000 });
    const aor = '1@a.example';
    const b = makeBinding({ aor, key: 'uri:x', expiresAt: clock.now() + 500 }, clock.now());
    await svc.apply({ aor, callId: 'c', cseq: 1, ops: [{ kind: 'upsert', binding: b }] });
    const expired = new Promise<string>((resolve) => svc.once('expired', (x) => resolve(x.key)));
    clock.advance(1000); // the sweep timer fires once, after the binding's deadline
    t.equal(await expired, 'uri:x');
    t.equal(await svc.count(), 0);
  });

  t.test(
    'redis location service: nodes sharing a namespace see one set of bindings; other namespaces do not',
    async (t) => {
      const clock = new ManualClock(1_700_000_000_000);
      const a = open(t, clock, { namespace: 'shared:' });
      const b = open(t, clock, { namespace: 'shared:' });
      const other = open(t, clock, { namespace: 'other:' });
      const aor = '7@a.example';
      await a.apply({
        aor,
        callId: 'c',
        cseq: 1,
        ops: [
          { kind: 'upsert', binding: makeBinding({ aor, key: 'uri:x', callId: 'c' }, clock.now()) },
        ],
      });
      t.equal((await b.lookup(aor)).length, 1);
      t.same(await other.lookup(aor), []);
      const redis = new Redis(server.url);
      t.teardown(() => redis.quit());
      const keys = (await redis.keys('*')).filter(
        (k) => k.includes('7@a.example') || k.startsWith('shared:'),
      );
      t.ok(
        keys.length > 0 && keys.every((k) => k.startsWith('shared:')),
        'every key is namespaced',
      );
      const stale = await b.apply({
        aor,
        callId: 'c',
        cseq: 1,
        ops: [{ kind: 'remove', key: 'uri:x' }],
      });
      t.same(
        stale,
        { ok: false, code: 'LOC_ERR_OUT_OF_ORDER', key: 'uri:x' },
        'ordering holds across nodes',
      );
    },
  );

  t.test(
    'redis location service: concurrent REGISTER changes for one AOR are serialised',
    async (t) => {
      const clock = new ManualClock(1_700_000_000_000);
      const svc = open(t, clock);
      const aor = '8@a.example';
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          svc.apply({
            aor,
            callId: 'same',
            cseq: 1,
            maxBindings: 5,
            ops: [
              {
                kind: 'upsert',
                binding: makeBinding({ aor, key: `uri:${i}`, callId: 'same' }, clock.now()),
              },
            ],
          }),
        ),
      );
      t.equal(results.filter((r) => r.ok).length, 5, 'exactly the limit was admitted');
      t.equal((await svc.lookup(aor)).length, 5);
    },
  );

  t.test(
    "two registrars sharing Redis: a REGISTER on one is found by the other; a flow closing on one node is that node's",
    async (t) => {
      const clock = new ManualClock(1_700_000_000_000);
      const nodeA = new Registrar({
        location: open(t, clock, { namespace: 'two:' }),
        clock,
        nodeId: 'a',
      });
      const nodeB = new Registrar({
        location: open(t, clock, { namespace: 'two:' }),
        clock,
        nodeId: 'b',
      });
      const text =
        'REGISTER sip:a.example SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bKr1\r\n' +
        'From: <sip:1002@a.example>;tag=1\r\nTo: <sip:1002@a.example>\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\n' +
        'Supported: outbound\r\nContact: <sip:1002@10.0.0.5:5060;transport=tcp;ob>;+sip.instance="<urn:uuid:1>";reg-id=1\r\n' +
        'Content-Length: 0\r\n\r\n';
      const parsed = parseMessage(Buffer.from(text));
      if (!parsed.ok || parsed.message.kind !== 'request') throw new Error('fixture did not parse');
      const flow: Flow = {
        protocol: 'tcp',
        local: { address: '127.0.0.1', port: 5060 },
        remote: { address: '198.51.100.7', port: 40000 },
        flowId: 'tcp#17',
      };
      const res = await nodeA.handle(parsed.message, flow);
      t.equal(res.status, 200);
      const [b] = await nodeB.lookup('sip:1002@a.example');
      t.equal(b?.flowKey, 'a|tcp#17');
      t.same(await nodeB.flowClosed(flow), [], 'node b has no such flow');
      t.equal((await nodeA.flowClosed(flow)).length, 1);
      t.same(await nodeB.lookup('1002@a.example'), []);
    },
  );
}
