/**
 * Interop: SIPp UAC → our stateful proxy → SIPp UAS, over UDP and TCP, for a basic call, CANCEL,
 * 486 Busy, and a basic call under 10 % packet loss (retransmissions). Public entry only.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { SipProxy, TransactionLayer, TransportLayer } from '../../src/index.js';
import {
  allocateSippPorts,
  findSipp,
  runSipp,
  waitForPort,
  type SippRun,
} from '../support/sipp.js';

const SIPP = findSipp();
const FIXTURES = fileURLToPath(new URL('../fixtures/sipp/', import.meta.url));

interface Case {
  name: string;
  uac: string;
  uas: string;
  calls: number;
  /** Packet loss (%) SIPp emulates on the UAC (-lost); the lossy UAS scenario drops its own. */
  uacLost?: number;
}

const CASES: readonly Case[] = [
  {
    name: 'basic call (INVITE/100/180/200/ACK/BYE/200)',
    uac: 'uac-call.xml',
    uas: 'uas-call.xml',
    calls: 20,
  },
  {
    name: 'CANCEL after 180 (UAS answers 487)',
    uac: 'uac-cancel.xml',
    uas: 'uas-cancel.xml',
    calls: 10,
  },
  { name: '486 Busy Here', uac: 'uac-busy.xml', uas: 'uas-busy.xml', calls: 10 },
];

async function startProxy(protocol: 'udp' | 'tcp', uasPort: number) {
  const transport = new TransportLayer();
  const lp = await transport.listen({ protocol, address: '127.0.0.1', port: 0 });
  const transactions = new TransactionLayer({ transport });
  transport.onMessage((m) => transactions.receive(m));
  const uas = `sip:service@127.0.0.1:${uasPort}` + (protocol === 'tcp' ? ';transport=tcp' : '');
  const proxy = new SipProxy({
    transactions,
    transport,
    route: () => Promise.resolve({ action: 'forward', targets: [[{ uri: uas }]] }),
  });
  return {
    proxy,
    port: lp.local.port,
    close: async () => {
      transactions.dispose();
      await transport.close();
    },
  };
}

async function runCase(t: Test, c: Case, protocol: 'udp' | 'tcp'): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sipp-proxy-'));
  const running: SippRun[] = [];
  t.teardown(async () => {
    for (const r of running) r.kill();
    await rm(dir, { recursive: true, force: true });
  });
  const ports = await allocateSippPorts();
  const uasPort = ports.uas;
  const proxy = await startProxy(protocol, uasPort);
  t.teardown(proxy.close);
  const transport = protocol === 'udp' ? 'u1' : 't1';
  const common = {
    workDir: dir,
    transport,
    calls: c.calls,
    timeoutSeconds: 60,
  } as const;
  const uas = runSipp({
    ...common,
    scenario: join(FIXTURES, c.uas),
    name: 'uas',
    localPort: uasPort,
    mediaPort: ports.uasMedia,
  });
  running.push(uas);
  await waitForPort(protocol, uasPort);
  const uac = runSipp({
    ...common,
    scenario: join(FIXTURES, c.uac),
    name: 'uac',
    localPort: ports.uac,
    mediaPort: ports.uacMedia,
    remote: `127.0.0.1:${proxy.port}`,
    rate: 10,
    ...(c.uacLost === undefined ? {} : { lost: c.uacLost }),
  });
  running.push(uac);
  const [a, b] = [await uac.done, await uas.done];
  t.equal(a.code, 0, `SIPp UAC exit code 0\n${a.code === 0 ? '' : a.screen || a.output}`);
  t.equal(a.successful, c.calls, `UAC: ${c.calls} successful calls`);
  t.equal(a.failed, 0, 'UAC: no failed call');
  t.equal(b.code, 0, `SIPp UAS exit code 0\n${b.code === 0 ? '' : b.screen || b.output}`);
  t.equal(b.successful, c.calls, `UAS: ${c.calls} successful calls`);
  t.equal(proxy.proxy.stats().contexts, 0, 'every response context was released');
}

const skip = SIPP === undefined ? 'sipp not found: install the Debian package sip-tester' : false;

for (const protocol of ['udp', 'tcp'] as const) {
  for (const c of CASES) {
    t.test(`SIPp over ${protocol.toUpperCase()}: ${c.name} through the proxy`, { skip }, (t) =>
      runCase(t, c, protocol),
    );
  }
}

t.test(
  'SIPp over UDP: basic calls complete under 10 % packet loss (retransmissions through the proxy)',
  { skip },
  (t) =>
    runCase(
      t,
      { name: 'loss', uac: 'uac-call.xml', uas: 'uas-call-lossy.xml', calls: 20, uacLost: 10 },
      'udp',
    ),
);
