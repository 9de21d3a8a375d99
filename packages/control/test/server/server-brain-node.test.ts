import t from 'tap';
import type { Test } from 'tap';
import { runCli } from '../../src/cli/run-cli.js';
import type { RunningEdgeNode } from '../../src/server/edge-node-server.js';
import { DOMAIN, demoUa, register, sdpFor } from '../edge/support/edge-fixture.js';
import { findRedisServer, startRedisServer } from '../../../registrar/test/support/redis-server.js';
import {
  cliIo,
  passwordsIn,
  getText,
  localFlags,
  sample,
  tempDir,
} from './support/server-fixture.js';

async function edgeNode(t: Test, brain: string, token: string, extra: string[]) {
  const s = cliIo();
  const r = await runCli(
    ['start', ...localFlags(tempDir(t)), '--brain', brain, '--node-token', token, ...extra],
    s.io,
  );
  const node = r.edgeNode;
  if (node === undefined) throw new Error(s.err.join(''));
  t.teardown(() => node.stop());
  return { node, out: s.out.join('') };
}

function sipPortOf(node: RunningEdgeNode): number {
  return node.edge?.node?.listeningPoints().find((l) => l.protocol === 'udp')?.local.port ?? 0;
}

const redisBinary = findRedisServer();

t.test(
  '--brain: edge nodes ask the remote control plane; registrations in Redis are shared between them',
  { skip: redisBinary === undefined ? 'redis-server is not installed' : false },
  async (t) => {
    const redis = await startRedisServer(redisBinary ?? 'redis-server');
    t.teardown(() => redis.stop());
    const cp = cliIo();
    const control = await runCli(['start', ...localFlags(tempDir(t)), '--sip', 'off'], cp.io);
    const server = control.server;
    if (server === undefined) return t.fail(cp.err.join(''));
    t.teardown(() => server.stop());
    const passwords = passwordsIn(cp.out.join(''));
    const brain = `http://127.0.0.1:${server.httpPort}`;
    const one = await edgeNode(t, brain, server.nodeToken, ['--location-redis', redis.url]);
    const two = await edgeNode(t, brain, server.nodeToken, ['--location-redis', redis.url]);
    t.match(
      one.out,
      new RegExp(
        `Switchboard edge node asking the control plane at ${brain}; metrics and health on http://127\\.0\\.0\\.1:\\d+\\.\\nSIP listening on udp 127\\.0\\.0\\.1:\\d+, tcp 127\\.0\\.0\\.1:\\d+; .*registrations in Redis`,
      ),
      'prints where it listens and whom it asks',
    );

    const a = await demoUa('1001', passwords['1001'] ?? '');
    const b = await demoUa('1002', passwords['1002'] ?? '');
    t.teardown(async () => {
      await a.close();
      await b.close();
    });
    b.onRequest(
      'INVITE',
      (req) => void req.accept({ body: sdpFor('1002', 4002), contentType: 'application/sdp' }),
    );
    t.equal(
      (await register(a, '1001', sipPortOf(one.node))).status,
      200,
      'digest checked by the remote brain',
    );
    t.equal((await register(b, '1002', sipPortOf(one.node))).status, 200);
    const viaTwo = sipPortOf(two.node);
    const { dialog, response } = await a.invite({
      uri: `sip:1002@${DOMAIN}`,
      route: [`<sip:127.0.0.1:${viaTwo};lr>`],
      body: sdpFor('1001', 4000),
      contentType: 'application/sdp',
      timeoutMs: 10_000,
    });
    t.equal(
      response.status,
      200,
      'a call through the second node reaches a contact registered on the first',
    );
    t.equal((await dialog.bye()).status, 200);

    const base = `http://127.0.0.1:${two.node.httpPort}`;
    const m = await getText(`${base}/metrics`);
    t.equal(
      sample(m.text, 'switchboard_registrations'),
      2,
      'the second node counts the shared bindings',
    );
    t.equal(sample(m.text, 'switchboard_calls_total'), 1);
    const h = await getText(`${base}/health`);
    t.equal(h.status, 200);
    t.match(JSON.parse(h.text), { status: 'ok', sip: 'ok', store: 'remote' });
    t.equal((await fetch(`${base}/cac`)).status, 404, 'no control-plane API on an edge node');
    t.equal((await fetch(`${base}/v1/users`)).status, 404, 'no public API on an edge node');
    const cdr = server.store.db.prepare('SELECT count(*) AS n FROM call_cdr').get() as
      { n: number } | undefined;
    t.ok((cdr?.n ?? 0) >= 1, 'the control plane recorded the call');
  },
);

t.test('--location-redis: an unreachable Redis stops start-up with the key named', async (t) => {
  const s = cliIo();
  const r = await runCli(
    ['start', ...localFlags(tempDir(t)), '--location-redis', 'redis://127.0.0.1:1'],
    s.io,
  );
  if (r.server !== undefined) await r.server.stop();
  t.equal(r.code, 1);
  t.match(
    s.err.join(''),
    /switchboard start: location\.redis: cannot reach redis:\/\/127\.0\.0\.1:1/,
  );
});
