/** The README example runs: start examples/echo-uas.ts, call it, hang up, stop it by PID. */
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { startEndpoint } from '../support/endpoint-harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SDP =
  'v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';

t.test(
  'the README examples run: echo-uas answers OPTIONS, INVITE and INFO; call-echo completes a call; SIGTERM stops the UAS',
  async (t) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/echo-uas.ts'], {
      cwd: root,
      env: { ...process.env, SIP_PORT: '0', TSX_TSCONFIG_PATH: 'examples/tsconfig.json' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) =>
      child.once('close', (code) => resolve(code)),
    );
    t.teardown(() => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    });
    const lines = createInterface({ input: child.stdout });
    const output: string[] = [];
    const ports = new Map<string, number>();
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('example did not start')), 20_000);
      lines.on('line', (line) => {
        output.push(line);
        const m = /^listening (udp|tcp) \S+ (\d+)$/.exec(line);
        if (m?.[1] !== undefined && m[2] !== undefined) ports.set(m[1], Number(m[2]));
        if (ports.size === 2) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await ready;

    const caller = await startEndpoint(t, 'udp');
    const uas = `sip:echo@127.0.0.1:${ports.get('udp') ?? 0}`;
    const options = await caller.request({ method: 'OPTIONS', uri: uas });
    t.equal(options.status, 200, 'OPTIONS 200');
    t.equal(options.headers.get('Server'), 'echo-uas');

    const tcpCaller = await startEndpoint(t, 'tcp');
    const overTcp = await tcpCaller.request({
      method: 'MESSAGE',
      uri: `sip:echo@127.0.0.1:${ports.get('tcp') ?? 0};transport=tcp`,
      body: 'ping',
      contentType: 'text/plain',
    });
    t.equal(overTcp.status, 200, 'MESSAGE over TCP 200');
    t.equal(overTcp.body.toString(), 'ping', 'body echoed');

    const provisional: number[] = [];
    const { dialog, response } = await caller.invite({
      uri: uas,
      body: SDP,
      contentType: 'application/sdp',
      onProvisional: (r) => provisional.push(r.status),
    });
    t.same(provisional, [180], 'rang first');
    t.equal(response.status, 200);
    t.equal(response.body.toString(), SDP, 'the SDP came back');
    const info = await dialog.request('INFO', {
      body: 'Signal=1',
      contentType: 'application/dtmf-relay',
    });
    t.equal(info.status, 200);
    t.equal(info.body.toString(), 'Signal=1');
    t.equal((await dialog.bye()).status, 200, 'BYE 200');

    // The UAC example of the README, against the same UAS.
    const uac = spawn(process.execPath, ['--import', 'tsx', 'examples/call-echo.ts'], {
      cwd: root,
      env: { ...process.env, ECHO_URI: uas, TSX_TSCONFIG_PATH: 'examples/tsconfig.json' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.teardown(() => {
      if (uac.exitCode === null && uac.pid !== undefined) process.kill(uac.pid, 'SIGKILL');
    });
    let uacOut = '';
    uac.stdout.on('data', (b: Buffer) => (uacOut += b.toString()));
    const uacCode = await new Promise<number | null>((resolve) => uac.once('close', resolve));
    t.equal(uacCode, 0, 'examples/call-echo.ts exits 0');
    t.match(uacOut, /^OPTIONS 200/m);
    t.match(uacOut, /^INVITE 180 Ringing$/m);
    t.match(uacOut, /^INVITE 200, echoed SDP: true$/m);
    t.match(uacOut, /^INFO 200 Signal=5$/m);
    t.match(uacOut, /^BYE 200$/m);

    if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    t.equal(await exited, 0, 'exits cleanly on SIGTERM');
    t.ok(
      output.some((l) => l.includes('answered')),
      'logged the answered call',
    );
  },
);
