/** OPTIONS qualify of registered contacts over real UDP on loopback. */
import t, { type Test } from 'tap';
import { OptionsQualifyClient } from '../../src/index.js';
import { nextEvent, register, startRegistrar, startUa } from '../support/registrar-harness.js';

async function qualifyingRegistrar(t: Test) {
  const holder: { client?: OptionsQualifyClient } = {};
  const h = await startRegistrar(
    t,
    {
      reachability: {
        qualify: {
          client: { qualify: (b) => (holder.client as OptionsQualifyClient).qualify(b) },
          intervalMs: 30_000,
        },
      },
    },
    // short T1 so that Timer F (64*T1) of an unanswered OPTIONS passes quickly in real time
    { timers: { T1: 10, T2: 40, T4: 50 } },
  );
  holder.client = new OptionsQualifyClient({
    transactions: h.server.transactions,
    from: 'sip:qualify@a.example',
  });
  h.registrar.start();
  return h;
}

t.test(
  'qualify marks a contact that answers OPTIONS reachable, on the configured interval',
  async (t) => {
    const h = await qualifyingRegistrar(t);
    const ua = await startUa(t);
    await register(h, ua, { user: '1002', expires: 600 });
    const reachable = nextEvent(h.registrar, 'reachable');
    h.clock.advance(30_000);
    const [b] = await reachable;
    t.equal(b.aor, '1002@a.example');
    t.equal(h.registrar.reachability?.state(b), 'reachable');
  },
);

t.test(
  'qualify marks a contact that no longer answers unreachable; live ones stay reachable',
  async (t) => {
    const h = await qualifyingRegistrar(t);
    const gone = await startUa(t);
    const live = await startUa(t);
    await register(h, gone, { user: '1002', expires: 600 });
    await register(h, live, { user: '1003', expires: 600 });
    await gone.close();
    const unreachable = nextEvent(h.registrar, 'unreachable');
    await h.registrar.reachability?.qualifyAll();
    const [dead, reason] = await unreachable;
    t.equal(dead.aor, '1002@a.example', 'the contact nobody answers for');
    t.ok(reason === 'timeout' || reason === 'transport');
    t.equal(h.registrar.reachability?.state(dead), 'unreachable');
    const [alive] = await h.registrar.lookup('1003@a.example');
    t.equal(alive !== undefined && h.registrar.reachability?.state(alive), 'reachable');
  },
);

t.test('a binding that leaves the location service is forgotten by the monitor', async (t) => {
  const h = await qualifyingRegistrar(t);
  const ua = await startUa(t);
  await register(h, ua, { user: '1002', expires: 600, callId: 'f' });
  await h.registrar.reachability?.qualifyAll();
  const [b] = await h.registrar.lookup('1002@a.example');
  t.equal(b !== undefined && h.registrar.reachability?.state(b), 'reachable');
  await register(h, ua, { user: '1002', expires: 0, callId: 'f', cseq: 2 });
  t.equal(b !== undefined ? h.registrar.reachability?.state(b) : 'none', undefined);
});

t.test('the qualify OPTIONS carries the Call-ID of the given generator', async (t) => {
  const h = await qualifyingRegistrar(t);
  let n = 0;
  const client = new OptionsQualifyClient({
    transactions: h.server.transactions,
    callId: () => `qualify-${++n}@worker-1`,
  });
  const ua = await startUa(t);
  const seen: string[] = [];
  ua.on('request', (req) => void seen.push(`${req.method} ${req.request.callId}`));
  await register(h, ua, { user: '1004', expires: 600 });
  const [b] = await h.registrar.lookup('1004@a.example');
  if (b === undefined) throw new Error('not registered');
  t.match(await client.qualify(b), { ok: true, status: 200 });
  t.match(await client.qualify(b), { ok: true, status: 200 });
  t.same(seen, ['OPTIONS qualify-1@worker-1', 'OPTIONS qualify-2@worker-1']);
});
