import t from 'tap';
import type { Binding } from '@switchboard/registrar';
import {
  ReplicatedLocationService,
  type LocationReplication,
} from '../../src/cluster/replicated-location.js';
import { FrameReader, encodeFlowFrame } from '../../src/cluster/worker-mesh.js';

function binding(key: string, over: Partial<Binding> = {}): Binding {
  const now = Date.now();
  return {
    aor: '1002@a.test',
    key,
    uri: key,
    contact: `<${key}>`,
    expiresAt: now + 60_000,
    callId: 'c1',
    cseq: 1,
    source: {
      protocol: 'tcp',
      local: { address: '127.0.0.1', port: 5060 },
      remote: { address: '127.0.0.1', port: 4000 },
      flowId: 'tcp:x#1@w0',
    },
    outbound: false,
    flowKey: 'local|tcp:x#1@w0',
    registeredAt: now,
    updatedAt: now,
    ...over,
  };
}

function pair() {
  const wire: LocationReplication[] = [];
  const a = new ReplicatedLocationService({
    publish: (c) => wire.push(JSON.parse(JSON.stringify(c)) as LocationReplication),
    emitExpiry: true,
  });
  const b = new ReplicatedLocationService({ publish: () => undefined, emitExpiry: false });
  const deliver = async () => {
    for (const c of wire.splice(0)) await b.applyRemote(c);
  };
  return { a, b, deliver };
}

t.test('a change made on one copy appears on the other, which emits no event for it', async (t) => {
  const { a, b, deliver } = pair();
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const eventsA: string[] = [];
  const eventsB: string[] = [];
  a.on('added', () => eventsA.push('added'));
  b.on('added', () => eventsB.push('added'));
  const r = await a.apply({
    aor: '1002@a.test',
    callId: 'c1',
    cseq: 1,
    ops: [{ kind: 'upsert', binding: binding('sip:1002@10.0.0.1') }],
  });
  t.ok(r.ok);
  await deliver();
  t.equal((await b.lookup('1002@a.test')).length, 1);
  t.same(eventsA, ['added']);
  t.same(eventsB, [], 'presence is reported once, by the worker that registered');
  // the §10.3 ordering of the original still holds on the copy's owner
  const again = await a.apply({
    aor: '1002@a.test',
    callId: 'c1',
    cseq: 1,
    ops: [{ kind: 'upsert', binding: binding('sip:1002@10.0.0.1') }],
  });
  t.notOk(again.ok);
});

t.test('removals by flow and by key replicate', async (t) => {
  const { a, b, deliver } = pair();
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await a.apply({
    aor: '1002@a.test',
    callId: 'c1',
    cseq: 1,
    ops: [
      { kind: 'upsert', binding: binding('k1') },
      { kind: 'upsert', binding: binding('k2', { flowKey: 'other' }) },
    ],
  });
  await deliver();
  t.equal(await b.count(), 2);
  await a.removeByFlow('local|tcp:x#1@w0');
  await a.remove('1002@a.test', 'k2');
  await deliver();
  t.equal(await b.count(), 0);
});

t.test('a snapshot brings a late copy up to date', async (t) => {
  const { a, b } = pair();
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await a.apply({
    aor: '1002@a.test',
    callId: 'c1',
    cseq: 1,
    ops: [{ kind: 'upsert', binding: binding('k1') }],
  });
  await b.applyRemote(JSON.parse(JSON.stringify(await a.snapshot())) as LocationReplication);
  t.equal(await b.count(), 1);
});

t.test('mesh frames split anywhere are reassembled; garbage stops the reader', (t) => {
  const got: string[] = [];
  const reader = new FrameReader(3, {
    onFlowBytes: (kind, id, bytes, from) => got.push(`${kind}|${id}|${bytes.toString()}|${from}`),
    onControl: () => undefined,
  });
  const all = Buffer.concat([
    encodeFlowFrame('inbound', 'udp:a->b', Buffer.from('INVITE 1')),
    encodeFlowFrame('write', 'tcp:a->b#1@w0', Buffer.from('SIP/2.0 200')),
  ]);
  for (let i = 0; i < all.length; i += 5) t.ok(reader.push(all.subarray(i, i + 5)));
  t.same(got, ['inbound|udp:a->b|INVITE 1|3', 'write|tcp:a->b#1@w0|SIP/2.0 200|3']);
  t.notOk(
    new FrameReader(0, { onFlowBytes: () => undefined, onControl: () => undefined }).push(
      Buffer.from([0xff, 0xff, 0xff, 0xff, 1]),
    ),
  );
  t.end();
});
