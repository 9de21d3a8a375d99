/**
 * A phone behind a NAT, built from network namespaces: client ns (10.201.N.2) → router ns
 * (masquerade out of 10.202.N.2, inbound only for established flows and the control port) → the
 * host (10.202.N.1), where the edge and the other party run.
 */
import { execFileSync } from 'node:child_process';

export interface NatNet {
  /** Namespace the phone runs in. */
  clientNs: string;
  clientAddress: string;
  /** Host address the edge binds (reachable from the client only through the NAT). */
  hostAddress: string;
  /** The address the edge sees the client as. */
  publicAddress: string;
  close(): void;
}

function run(args: string[], input?: string): void {
  execFileSync(args[0] as string, args.slice(1), {
    stdio: ['pipe', 'ignore', 'pipe'],
    ...(input === undefined ? {} : { input }),
  });
}

/** Undefined (with the reason in `why`) when namespaces or nftables are not permitted here. */
export function createNat(ctrlPort: number, why: { reason?: string } = {}): NatNet | undefined {
  const n = 1 + Math.floor(Math.random() * 250);
  const tag = `${process.pid % 1000}x${n}`;
  const clientNs = `sbnc${tag}`;
  const routerNs = `sbnr${tag}`;
  const host = `sbh${tag}`;
  const routerOut = `sbro${tag}`;
  const routerIn = `sbri${tag}`;
  const client = `sbci${tag}`;
  const outer = `10.202.${n}`;
  const inner = `10.201.${n}`;
  const close = (): void => {
    for (const cmd of [
      ['ip', 'netns', 'del', clientNs],
      ['ip', 'netns', 'del', routerNs],
      ['ip', 'link', 'del', host],
      ['ip', 'route', 'del', `${inner}.2/32`],
    ]) {
      try {
        run(cmd);
      } catch {
        // already gone
      }
    }
  };
  try {
    run(['ip', 'netns', 'add', routerNs]);
    run(['ip', 'netns', 'add', clientNs]);
    run(['ip', 'link', 'add', host, 'type', 'veth', 'peer', 'name', routerOut]);
    run(['ip', 'link', 'set', routerOut, 'netns', routerNs]);
    run(['ip', 'link', 'add', routerIn, 'type', 'veth', 'peer', 'name', client]);
    run(['ip', 'link', 'set', routerIn, 'netns', routerNs]);
    run(['ip', 'link', 'set', client, 'netns', clientNs]);
    run(['ip', 'addr', 'add', `${outer}.1/24`, 'dev', host]);
    run(['ip', 'link', 'set', host, 'up']);
    run(['ip', '-n', routerNs, 'addr', 'add', `${outer}.2/24`, 'dev', routerOut]);
    run(['ip', '-n', routerNs, 'addr', 'add', `${inner}.1/24`, 'dev', routerIn]);
    for (const dev of ['lo', routerOut, routerIn])
      run(['ip', '-n', routerNs, 'link', 'set', dev, 'up']);
    run(['ip', '-n', clientNs, 'addr', 'add', `${inner}.2/24`, 'dev', client]);
    for (const dev of ['lo', client]) run(['ip', '-n', clientNs, 'link', 'set', dev, 'up']);
    run(['ip', '-n', clientNs, 'route', 'add', 'default', 'via', `${inner}.1`]);
    run(['ip', 'netns', 'exec', routerNs, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    // The test reaches the phone's control port only; everything else inbound needs a flow.
    run(['ip', 'route', 'add', `${inner}.2/32`, 'via', `${outer}.2`]);
    run(
      ['ip', 'netns', 'exec', routerNs, 'nft', '-f', '-'],
      `table inet sbnat {
  chain nat_out { type nat hook postrouting priority srcnat; oifname "${routerOut}" masquerade; }
  chain forward_in {
    type filter hook forward priority filter; policy accept;
    iifname "${routerOut}" ct state established,related accept
    iifname "${routerOut}" tcp dport ${ctrlPort} accept
    iifname "${routerOut}" drop
  }
}
`,
    );
  } catch (err) {
    close();
    why.reason = `network namespaces or nftables not permitted: ${(err as Error).message.split('\n')[0] ?? ''}`;
    return undefined;
  }
  return {
    clientNs,
    clientAddress: `${inner}.2`,
    hostAddress: `${outer}.1`,
    publicAddress: `${outer}.2`,
    close,
  };
}
