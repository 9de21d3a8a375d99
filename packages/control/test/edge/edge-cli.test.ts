import t from 'tap';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/cli/config.js';
import { runCli } from '../../src/cli/run-cli.js';

t.test('config: SIP and media keys have defaults and are validated with the key named', (t) => {
  const d = loadConfig({ env: {}, flags: {} });
  t.match(d, {
    ok: true,
    value: {
      sip: { enabled: true, host: '0.0.0.0', udpPort: 5060, tcpPort: 5060, wsPort: 5066 },
      media: { mode: 'always', portMin: 30000, portMax: 39999, kernel: true },
    },
  });
  t.match(
    loadConfig({ env: { SWITCHBOARD_SIP_WS_PORT: 'off' }, flags: { '--media-mode': 'nat' } }),
    {
      ok: true,
      value: { sip: { wsPort: null }, media: { mode: 'nat' } },
    },
  );
  t.match(loadConfig({ env: {}, flags: { '--media-mode': 'sometimes' } }), {
    ok: false,
    error: { message: /flag --media-mode \(media\.mode\) must be one of always, nat, never/ },
  });
  t.match(loadConfig({ env: {}, flags: { '--rtp-min': '40000', '--rtp-max': '30000' } }), {
    ok: false,
    error: { message: /media\.port_min/ },
  });
  t.end();
});

t.test('cli: start prints where SIP listens and stop closes the listeners', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-edge-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out: string[] = [];
  const io = { out: (s: string) => void out.push(s), err: () => undefined, env: {} };
  const min = 20000 + 200 * Math.floor(Math.random() * 40);
  const started = await runCli(
    [
      'start',
      '--data-dir',
      dir,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--log-level',
      'silent',
      '--sip-host',
      '127.0.0.1',
      '--sip-udp-port',
      '0',
      '--sip-tcp-port',
      '0',
      '--sip-ws-port',
      '0',
      '--rtp-min',
      String(min),
      '--rtp-max',
      String(min + 99),
    ],
    io,
  );
  t.equal(started.code, 0);
  t.match(
    out.join(''),
    /SIP listening on udp 127\.0\.0\.1:\d+, tcp 127\.0\.0\.1:\d+, ws 127\.0\.0\.1:\d+; media anchored \(always\)/,
  );
  const node = started.server?.edge?.node;
  const points = node?.listeningPoints() ?? [];
  t.equal(points.length, 3);
  await started.server?.stop();
  // the ports are free again: the listeners were closed
  for (const lp of points.filter((p) => p.protocol !== 'udp')) {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(lp.local.port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  }
  const udp = points.find((p) => p.protocol === 'udp');
  const sock = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(udp?.local.port ?? 0, '127.0.0.1', resolve);
  });
  sock.close();
  t.pass('SIP ports are free after stop');
});
