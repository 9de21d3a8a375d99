import t from 'tap';
import type { Test } from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EndpointError, type SipEndpoint } from '@switchboard/sip-stack';
import { runCli } from '../../src/cli/run-cli.js';
import { DOMAIN, demoUa, register, sdpFor } from '../edge/support/edge-fixture.js';
import { cliIo, getText, localFlags, passwordsIn, tempDir } from './support/server-fixture.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const CONTROL_DIR = fileURLToPath(new URL('../..', import.meta.url));

function call(a: SipEndpoint, sipPort: number) {
  return a.invite({
    uri: `sip:1002@${DOMAIN}`,
    route: [`<sip:127.0.0.1:${sipPort};lr>`],
    body: sdpFor('1001', 4000),
    contentType: 'application/sdp',
    timeoutMs: 10_000,
  });
}

async function refusal(p: PromiseLike<unknown>): Promise<{ status: number; retryAfter?: string }> {
  try {
    await p;
    return { status: 200 };
  } catch (err) {
    if (!(err instanceof EndpointError)) throw err;
    const retryAfter = err.response?.headers.get('Retry-After');
    return { status: err.status ?? 0, ...(retryAfter === undefined ? {} : { retryAfter }) };
  }
}

/** Two demo UAs registered on the server; B answers every INVITE. */
async function users(t: Test, passwords: Record<string, string>, sipPort: number) {
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
  t.equal((await register(a, '1001', sipPort)).status, 200);
  t.equal((await register(b, '1002', sipPort)).status, 200);
  return { a, b };
}

t.test(
  'drain: a call still up at the deadline is ended by the stop (relay session closed)',
  async (t) => {
    const dir = tempDir(t);
    const s = cliIo();
    const started = await runCli(['start', ...localFlags(dir), '--drain-timeout', '1'], s.io);
    const server = started.server;
    if (server === undefined) return t.fail(s.err.join(''));
    t.teardown(() => server.stop());
    const sipPort =
      server.edge?.node?.listeningPoints().find((l) => l.protocol === 'udp')?.local.port ?? 0;
    const { a } = await users(t, passwordsIn(s.out.join('')), sipPort);
    const { response } = await call(a, sipPort);
    const media = server.edge?.node?.calls.get(response.callId)?.media;
    t.ok(media !== undefined && !media.closed, 'the call is up and anchored');
    const result = await server.shutdown();
    t.same(result, { drained: false }, 'the call outlived the drain timeout');
    t.equal(server.edge?.node?.calls.size, 0, 'the stop ended it');
    t.ok(media?.closed, 'its relay session is closed');
  },
);

t.test(
  'SIGTERM: new calls get 503 + Retry-After, REGISTER still works, /health 503, exit 0 after the last BYE',
  async (t) => {
    const dir = tempDir(t);
    const child = spawn(
      process.execPath,
      ['--import=tsx', MAIN, 'start', ...localFlags(dir), '--drain-timeout', '60'],
      { cwd: CONTROL_DIR, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    t.teardown(() => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 60_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/SIP listening on/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const httpPort = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    const sipPort = Number(/udp 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    const health = `http://127.0.0.1:${httpPort}/health`;
    t.equal((await getText(health)).status, 200, 'healthy before the signal');
    const { a } = await users(t, passwordsIn(out), sipPort);
    const { dialog } = await call(a, sipPort);

    child.kill('SIGTERM');
    let h = await getText(health);
    for (let i = 0; i < 50 && h.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      h = await getText(health);
    }
    t.equal(h.status, 503, '/health turns 503 while draining');
    t.match(JSON.parse(h.text), { status: 'draining', calls: 1 });
    t.same(
      await refusal(call(a, sipPort)),
      { status: 503, retryAfter: '60' },
      'a new call is refused',
    );
    t.equal((await register(a, '1001', sipPort)).status, 200, 'REGISTER is still served');
    t.equal(child.exitCode, null, 'the server waits for the call');
    t.equal((await dialog.bye()).status, 200, 'the BYE of the call in progress goes through');
    t.equal(await exited, 0, 'exit code 0');
    t.match(err, /SIGTERM: draining/);
    t.match(err, /all calls ended; stopped/);
  },
);
