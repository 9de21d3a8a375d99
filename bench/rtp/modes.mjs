// The systems under test. Each start(streams) returns where the generator sends (one address
// per stream), where the sink says hello (latching the relay's B side), and the pid to measure.
import { fileURLToPath } from 'node:url';
import { JsonChild, sleep } from './proc.mjs';
import { NgClient, rtpengineCall } from './ng.mjs';
import { ADDR } from './topology.mjs';

export const GEN_PORT = 40000;
export const SINK_PORT = 40000;
const NG_PORT = 12223;
// Both relays get the same port range; every call uses rtcp-mux (RFC 5761) on both sides, so
// 300k pps (6000 calls) fits the file limit: 2 sockets per call for ours, 3 for rtpengine.
const PORTS = '20000-59999';
const here = (f) => fileURLToPath(new URL(f, import.meta.url));

async function inBatches(n, width, fn) {
  const out = new Array(n);
  for (let i = 0; i < n; i += width) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + width); j++) batch.push(fn(j).then((v) => (out[j] = v)));
    await Promise.all(batch);
  }
  return out;
}

const direct = {
  name: 'direct',
  label: 'direct generator -> sink (routed, no relay)',
  async start() {
    return {
      targets: [`${ADDR.b}:${SINK_PORT}`],
      hello: [],
      pid: null,
      info: 'kernel IP forwarding in R',
    };
  },
  async finish() {
    return {};
  },
};

function rtpengine(opts) {
  let child;
  let ng;
  return {
    name: 'rtpengine',
    label: 'rtpengine (userspace, no kernel module)',
    async start(streams) {
      const args = [
        '--config-file=none',
        '--foreground',
        '--log-stderr',
        '--log-level=3',
        '--table=-1',
        `--interface=${ADDR.rA}`,
        `--listen-ng=127.0.0.1:${NG_PORT}`,
        `--port-min=${PORTS.split('-')[0]}`,
        `--port-max=${PORTS.split('-')[1]}`,
        '--timeout=120',
        '--delete-delay=0',
      ];
      if (opts.rtpengineThreads) args.push(`--num-threads=${opts.rtpengineThreads}`);
      // Its own file limit raised to the hard limit (20000 here: 6000 calls x 3 sockets fit).
      child = new JsonChild(
        'sh',
        ['-c', 'ulimit -n "$(ulimit -Hn)" && exec rtpengine "$@"', 'rtpengine', ...args],
        { stderr: 'ignore' },
      );
      ng = new NgClient('127.0.0.1', NG_PORT);
      for (let i = 0; ; i++) {
        try {
          await ng.command({ command: 'ping' }, 300);
          break;
        } catch (e) {
          if (i > 30) throw new Error(`rtpengine did not answer ng ping: ${e.message}`);
          await sleep(100);
        }
      }
      const a = { ip: ADDR.a, port: GEN_PORT };
      const b = { ip: ADDR.b, port: SINK_PORT };
      const ports = await inBatches(streams, 32, (i) => rtpengineCall(ng, `bench-${i}`, a, b));
      return {
        targets: ports.map(([pa]) => `${ADDR.rA}:${pa}`),
        hello: ports.map(([, pb]) => `${ADDR.rA}:${pb}`),
        pid: child.pid,
        info: 'rtpengine userspace',
      };
    },
    async finish() {
      ng?.close();
      await child?.stop();
      return {};
    },
  };
}

function relay(kernel) {
  let host;
  return {
    name: kernel ? 'relay-kernel' : 'relay-user',
    label: kernel ? 'Switchboard relay, kernel mode (eBPF)' : 'Switchboard relay, userspace mode',
    async start(streams) {
      host = new JsonChild(
        process.execPath,
        [
          '--import',
          'tsx',
          here('./relay-host.mjs'),
          '--kernel',
          kernel ? 'on' : 'off',
          '--address',
          ADDR.rA,
          '--ports',
          PORTS,
        ],
        { cwd: here('../..') },
      );
      const ready = await host.next(20000);
      if (ready.error) throw new Error(`relay host: ${ready.error}`);
      const res = await host.request(
        JSON.stringify({
          cmd: 'create',
          count: streams,
          a: `${ADDR.a}:${GEN_PORT}`,
          b: `${ADDR.b}:${SINK_PORT}`,
        }),
        120000,
      );
      if (res.error) throw new Error(`relay host: ${res.error}`);
      if (kernel && !ready.kernel) throw new Error(`kernel mode unavailable: ${ready.mode}`);
      return {
        targets: res.sessions.map(([pa]) => `${ADDR.rA}:${pa}`),
        hello: res.sessions.map(([, pb]) => `${ADDR.rA}:${pb}`),
        pid: host.pid,
        info: ready.mode,
      };
    },
    async finish() {
      let stats = {};
      try {
        stats = await host.request(JSON.stringify({ cmd: 'stats' }), 30000);
        await host.request(JSON.stringify({ cmd: 'close' }), 60000);
      } finally {
        await host.stop();
      }
      return stats;
    },
  };
}

export function makeModes(list, opts) {
  const all = {
    direct: () => direct,
    rtpengine: () => rtpengine(opts),
    'relay-user': () => relay(false),
    'relay-kernel': () => relay(true),
  };
  return list.map((m) => {
    if (!all[m]) throw new Error(`unknown mode ${m} (${Object.keys(all).join(', ')})`);
    return all[m]();
  });
}
