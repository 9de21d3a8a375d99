/** SIPp peers of the edge: a callee that registers its own port, then answers on it; a caller. */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import type { Test } from 'tap';
import { DOMAIN } from './e2e-server.js';
import { freePort } from './free-port.js';
import { runSipp, startSipp, type SippProcess, type SippResult } from './sipp.js';

/** Asserts a SIPp run ended with exit code 0, with its errors and output as diagnostics. */
export function sippPassed(t: Test, r: SippResult, what: string): boolean {
  return t.equal(r.exitCode, 0, `${what}: SIPp exit code 0`, {
    killed: r.killed,
    errors: r.errors.slice(0, 3000),
    output: r.output.slice(-1500),
  });
}

export interface RegisterOptions {
  /** The server's `host:port` for the REGISTER. */
  registrar: string;
  user: string;
  password: string;
  /** The port the callee will listen on: the REGISTER is sent from it and names it in Contact. */
  port: number;
  /** Transport of the Contact (the callee's), default udp. The REGISTER itself goes over UDP. */
  contactTransport?: 'udp' | 'tcp';
  localIp?: string;
  netns?: string;
}

/**
 * Registers `user` with Contact `<sip:user@ip:port;transport=...>`, sending from that very port so
 * the registrar sees no NAT on loopback (and, behind a NAT, opens the pinhole the callee uses).
 */
export function registerSipp(o: RegisterOptions): Promise<SippResult> {
  return runSipp({
    scenario: 'register.xml',
    remote: o.registrar,
    localPort: o.port,
    ...(o.localIp === undefined ? {} : { localIp: o.localIp }),
    ...(o.netns === undefined ? {} : { netns: o.netns }),
    vars: {
      user: o.user,
      domain: DOMAIN,
      contact_port: String(o.port),
      contact_transport: o.contactTransport ?? 'udp',
    },
    auth: { user: o.user, password: o.password, uri: `sip:${DOMAIN}` },
    timeoutMs: 10_000,
  });
}

/** Removes every binding of `user` (`Contact: *`, `Expires: 0`), as a phone does when it stops. */
export function unregisterSipp(o: Omit<RegisterOptions, 'contactTransport'>): Promise<SippResult> {
  return runSipp({
    scenario: 'unregister.xml',
    remote: o.registrar,
    localPort: o.port,
    ...(o.localIp === undefined ? {} : { localIp: o.localIp }),
    ...(o.netns === undefined ? {} : { netns: o.netns }),
    vars: { user: o.user, domain: DOMAIN },
    auth: { user: o.user, password: o.password, uri: `sip:${DOMAIN}` },
    timeoutMs: 10_000,
  });
}

/** Resolves once something listens on the port (TCP accepts; UDP cannot be bound by us). */
export async function waitListening(
  port: number,
  transport: 'udp' | 'tcp',
  address = '127.0.0.1',
): Promise<boolean> {
  const probe = (): Promise<boolean> =>
    new Promise((resolve) => {
      if (transport === 'tcp') {
        const s = connect(port, address);
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
        return;
      }
      const u = createSocket('udp4');
      u.once('error', () => (u.close(), resolve(true)));
      u.bind(port, address, () => u.close(() => resolve(false)));
    });
  for (let i = 0; i < 100; i++) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

export interface CalleeOptions {
  scenario: string;
  port: number;
  transport?: 'udp' | 'tcp';
  timeoutMs?: number;
  localIp?: string;
  netns?: string;
  vars?: Record<string, string>;
}

/** A SIPp UAS on `port`, killed by PID in the test's teardown. */
export async function startCallee(t: Test, o: CalleeOptions): Promise<SippProcess> {
  const uas = startSipp({
    scenario: o.scenario,
    transport: o.transport ?? 'udp',
    localPort: o.port,
    timeoutMs: o.timeoutMs ?? 20_000,
    ...(o.localIp === undefined ? {} : { localIp: o.localIp }),
    ...(o.netns === undefined ? {} : { netns: o.netns }),
    ...(o.vars === undefined ? {} : { vars: o.vars }),
  });
  t.teardown(() => uas.kill());
  // Inside a namespace the port cannot be probed from here; SIPp binds within milliseconds and
  // UDP retransmissions cover the gap.
  if (o.netns === undefined && !(await waitListening(o.port, o.transport ?? 'udp', o.localIp)))
    throw new Error(`SIPp UAS never listened on ${o.port}`);
  return uas;
}

export interface CallerOptions {
  scenario?: string;
  proxy: string;
  transport?: 'udp' | 'tcp';
  port: number;
  user: string;
  password: string;
  callee: string;
  callId: string;
  timeoutMs?: number;
}

/** A SIPp UAC calling `callee@DOMAIN` through the proxy, answering its 407. */
export function callSipp(o: CallerOptions): Promise<SippResult> {
  return runSipp({
    scenario: o.scenario ?? 'uac-call.xml',
    remote: o.proxy,
    transport: o.transport ?? 'udp',
    localPort: o.port,
    vars: { user: o.user, domain: DOMAIN, callee: o.callee },
    auth: { user: o.user, password: o.password, uri: `sip:${o.callee}@${DOMAIN}` },
    callId: o.callId,
    timeoutMs: o.timeoutMs ?? 15_000,
  });
}

let seq = 0;
/** A Call-ID prefix unique to this run; SIPp appends the call number (1). */
export function callIdPrefix(name: string): string {
  return `e2e-${name}-${process.pid}-${++seq}-`;
}

/** Records a skipped step with its reason (a feature this build does not have yet). */
export function skipBecause(t: Test, reason: string): void {
  void t.test(reason, { skip: reason }, () => undefined);
}

export interface RegisteredCalleeOptions {
  /** The server's UDP `host:port`. */
  registrar: string;
  user: string;
  password: string;
  scenario: string;
  transport?: 'udp' | 'tcp';
  vars?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Registers `user` on a fresh port, then starts a SIPp UAS with `scenario` on that port. SIPp
 * exits without unregistering: the test's teardown removes the user's bindings, so a later test
 * does not fork to a contact nobody listens on any more.
 */
export async function registeredCallee(t: Test, o: RegisteredCalleeOptions): Promise<SippProcess> {
  const port = await freePort();
  t.teardown(async () => {
    const r = await unregisterSipp({ ...o, port: await freePort() });
    if (r.exitCode !== 0)
      throw new Error(`${o.user} did not unregister: ${r.errors.slice(0, 500)}`);
  });
  const reg = await registerSipp({
    registrar: o.registrar,
    user: o.user,
    password: o.password,
    port,
    contactTransport: o.transport ?? 'udp',
  });
  if (!sippPassed(t, reg, `${o.user} registers`)) throw new Error(`${o.user} did not register`);
  return startCallee(t, {
    scenario: o.scenario,
    port,
    transport: o.transport ?? 'udp',
    ...(o.vars === undefined ? {} : { vars: o.vars }),
    ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
  });
}
