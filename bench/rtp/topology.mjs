// Three network namespaces: A (generator), R (the relay under test), B (sink), joined by veth
// pairs A<->R and R<->B. R forwards IP so "direct" (A -> B with no relay) is a routed floor.
// Addresses are from the benchmarking range 198.18.0.0/15 (RFC 2544).
import { execFileSync } from 'node:child_process';

export const ADDR = {
  a: '198.18.0.2', // generator
  rA: '198.18.0.1', // relay, A-facing (also the relay's only service address)
  rB: '198.18.0.5', // R's address towards B
  b: '198.18.0.6', // sink
};

export function names(pid = process.pid) {
  return { r: `sbb-r-${pid}`, a: `sbb-a-${pid}`, b: `sbb-b-${pid}` };
}

function ip(...args) {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function setup(ns) {
  teardown(ns);
  for (const n of [ns.r, ns.a, ns.b]) {
    ip('netns', 'add', n);
    ip('-n', n, 'link', 'set', 'lo', 'up');
  }
  ip('link', 'add', 'veth-a', 'netns', ns.r, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.a);
  ip('link', 'add', 'veth-b', 'netns', ns.r, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.b);
  ip('-n', ns.r, 'addr', 'add', `${ADDR.rA}/30`, 'dev', 'veth-a');
  ip('-n', ns.r, 'addr', 'add', `${ADDR.rB}/30`, 'dev', 'veth-b');
  ip('-n', ns.a, 'addr', 'add', `${ADDR.a}/30`, 'dev', 'eth0');
  ip('-n', ns.b, 'addr', 'add', `${ADDR.b}/30`, 'dev', 'eth0');
  for (const [n, dev] of [
    [ns.r, 'veth-a'],
    [ns.r, 'veth-b'],
    [ns.a, 'eth0'],
    [ns.b, 'eth0'],
  ]) {
    ip('-n', n, 'link', 'set', dev, 'up');
  }
  ip('-n', ns.a, 'route', 'add', 'default', 'via', ADDR.rA);
  ip('-n', ns.b, 'route', 'add', 'default', 'via', ADDR.rB);
  execFileSync('ip', ['netns', 'exec', ns.r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
}

export function teardown(ns) {
  for (const n of [ns.a, ns.b, ns.r]) {
    try {
      ip('netns', 'del', n);
    } catch {
      // absent already
    }
  }
}
