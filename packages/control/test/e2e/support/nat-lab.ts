/**
 * A NAT in network namespaces: a "phone" namespace on a private LAN behind a "router" namespace
 * that masquerades (nftables SNAT) onto a link to the host, where the server listens.
 *
 *   phone ns  10.A.2.2 ──lan── 10.A.2.1  router ns  10.A.1.2 ──wan── 10.A.1.1  host (server)
 *                                        (masquerade out of wan)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface NatLab {
  /** Namespace of the phone (run SIPp there with `ip netns exec`). */
  phoneNs: string;
  phoneIp: string;
  /** The router's public address: what the server sees as the phone's source. */
  publicIp: string;
  /** The host side of the WAN link: bind the server here. */
  hostIp: string;
  close(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Builds the lab, or returns the reason it cannot be built here (not root, no netns, no nft). */
export function createNatLab(): NatLab | { unavailable: string } {
  const id = randomBytes(3).toString('hex');
  const a = 100 + ((randomBytes(1)[0] ?? 0) % 100);
  const phoneNs = `sbph${id}`;
  const routerNs = `sbrt${id}`;
  const [hostIf, wanIf, lanIf, phoneIf] = ['h', 'w', 'l', 'p'].map((x) => `sb${x}${id}`);
  const hostIp = `10.${a}.1.1`;
  const publicIp = `10.${a}.1.2`;
  const phoneIp = `10.${a}.2.2`;
  const close = (): void => {
    for (const ns of [phoneNs, routerNs]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // not created
      }
    }
    try {
      ip('link', 'del', hostIf as string);
    } catch {
      // gone with its peer
    }
  };
  try {
    ip('netns', 'add', routerNs);
    ip('netns', 'add', phoneNs);
    ip('link', 'add', hostIf as string, 'type', 'veth', 'peer', 'name', wanIf as string);
    ip('link', 'set', wanIf as string, 'netns', routerNs);
    ip('link', 'add', lanIf as string, 'type', 'veth', 'peer', 'name', phoneIf as string);
    ip('link', 'set', lanIf as string, 'netns', routerNs);
    ip('link', 'set', phoneIf as string, 'netns', phoneNs);
    ip('addr', 'add', `${hostIp}/24`, 'dev', hostIf as string);
    ip('link', 'set', hostIf as string, 'up');
    ip('-n', routerNs, 'addr', 'add', `${publicIp}/24`, 'dev', wanIf as string);
    ip('-n', routerNs, 'addr', 'add', `10.${a}.2.1/24`, 'dev', lanIf as string);
    for (const dev of ['lo', wanIf as string, lanIf as string])
      ip('-n', routerNs, 'link', 'set', dev, 'up');
    ip('-n', phoneNs, 'addr', 'add', `${phoneIp}/24`, 'dev', phoneIf as string);
    for (const dev of ['lo', phoneIf as string]) ip('-n', phoneNs, 'link', 'set', dev, 'up');
    ip('-n', phoneNs, 'route', 'add', 'default', 'via', `10.${a}.2.1`);
    execFileSync('ip', ['netns', 'exec', routerNs, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    execFileSync('ip', ['netns', 'exec', routerNs, 'nft', '-f', '-'], {
      input:
        'table ip nat {\n chain postrouting {\n  type nat hook postrouting priority 100;\n' +
        `  oifname "${wanIf}" masquerade\n }\n}\n`,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
  } catch (err) {
    close();
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return {
      unavailable: `network namespaces with nftables NAT not permitted here (${stderr || (err as Error).message})`,
    };
  }
  return { phoneNs, phoneIp, publicIp, hostIp, close };
}
