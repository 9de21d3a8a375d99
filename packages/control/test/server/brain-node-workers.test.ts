// `start --brain URL --workers N`: an edge node of a remote control plane runs N SIP worker
// processes; its primary holds no store and relays every brain call (digest checks included) to
// the control plane over HTTP.
import t from 'tap';
import { runCli } from '../../src/cli/run-cli.js';
import type { ClusterEdge } from '../../src/cluster/cluster-edge.js';
import { DOMAIN, demoUa, register, sdpFor } from '../edge/support/edge-fixture.js';
import {
  cliIo,
  passwordsIn,
  getText,
  localFlags,
  sample,
  tempDir,
} from './support/server-fixture.js';

t.test('an edge node with two workers asks the control plane from every worker', async (t) => {
  const cp = cliIo();
  const control = await runCli(['start', ...localFlags(tempDir(t)), '--sip', 'off'], cp.io);
  const server = control.server;
  if (server === undefined) return t.fail(cp.err.join(''));
  t.teardown(() => server.stop());
  const passwords = passwordsIn(cp.out.join(''));
  const brain = `http://127.0.0.1:${server.httpPort}`;

  const s = cliIo();
  const r = await runCli(
    [
      'start',
      ...localFlags(tempDir(t)),
      '--brain',
      brain,
      '--node-token',
      server.nodeToken,
      '--workers',
      '2',
      '--media-mode',
      'never',
    ],
    s.io,
  );
  const node = r.edgeNode;
  if (node === undefined) return t.fail(s.err.join(''));
  t.teardown(() => node.stop());
  t.match(s.out.join(''), /asking the control plane at .* with 2 worker processes/s);
  const workers = node.edge as ClusterEdge;
  const portOf = (w: number): number =>
    workers.listeningPoints(w).find((l) => l.protocol === 'udp')?.local.port ?? 0;

  const a = await demoUa('1001', passwords['1001'] ?? '');
  const b = await demoUa('1002', passwords['1002'] ?? '');
  const wrong = await demoUa('1002', 'not-the-password');
  t.teardown(async () => {
    await Promise.all([a.close(), b.close(), wrong.close()]);
  });
  b.onRequest(
    'INVITE',
    (req) => void req.accept({ body: sdpFor('1002', 4002), contentType: 'application/sdp' }),
  );
  t.equal((await register(a, '1001', portOf(0))).status, 200, 'worker 0: digest checked remotely');
  t.equal((await register(b, '1002', portOf(1))).status, 200, 'worker 1: digest checked remotely');
  const refused = await register(wrong, '1002', portOf(1));
  t.ok([401, 403].includes(refused.status), `a wrong password is refused (${refused.status})`);

  const { dialog, response } = await a.invite({
    uri: `sip:1002@${DOMAIN}`,
    target: { protocol: 'udp', address: '127.0.0.1', port: portOf(0) },
    body: sdpFor('1001', 4000),
    contentType: 'application/sdp',
    timeoutMs: 10_000,
  });
  t.equal(response.status, 200, 'a call through worker 0 reaches a contact registered at worker 1');
  t.equal((await dialog.bye()).status, 200);

  const m = await getText(`http://127.0.0.1:${node.httpPort}/metrics`);
  t.equal(sample(m.text, 'switchboard_sip_workers'), 2);
  t.equal(sample(m.text, 'switchboard_sip_workers_up'), 2);
  const h = await getText(`http://127.0.0.1:${node.httpPort}/health`);
  t.equal(h.status, 200);
  t.match(JSON.parse(h.text), { status: 'ok', sip: 'ok', store: 'remote' });
});
