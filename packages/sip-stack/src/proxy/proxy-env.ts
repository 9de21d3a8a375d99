import type { SipResolver } from '../dns/sip-resolver.js';
import type { DeadlineQueue, Expirable } from '../transaction/deadline-queue.js';
import type { TransactionLayer } from '../transaction/transaction-layer.js';
import type { SendReport } from '../transport/transport.js';
import type { Clock } from '../util/clock.js';
import type { LocalIdentity } from './local-identity.js';
import type { ProxyHooks } from './proxy-hooks.js';
import type { ProxyLogger, ProxyTransport } from './proxy-options.js';

/** What every part of the proxy core shares (built once by `Proxy`). */
export interface ProxyEnv {
  readonly transactions: TransactionLayer;
  readonly transport: ProxyTransport;
  readonly clock: Clock;
  /** Timer C, ms (RFC 3261 §16.6 item 11). */
  readonly timerC: number;
  /** Every branch's Timer C on one clock timer (one fixed delay: a FIFO of waits). */
  readonly timerCQueue: DeadlineQueue<Expirable>;
  /** 64*T1: how long a cancelled branch may take to answer (RFC 3261 §9.1). */
  readonly cancelWait: number;
  readonly identity: LocalIdentity;
  /** Alias the Contacts of NATed UAs in requests and responses (contact-alias.ts). */
  readonly contactAlias: boolean;
  resolver(): SipResolver;
  readonly hooks: ProxyHooks | undefined;
  readonly logger: ProxyLogger | undefined;
  /** Takes the outcome of every stateless send (§16.7 item 5, §16.11): failures are logged. */
  readonly statelessReport: SendReport;
}

/** The report of stateless sends: nothing to do when sent, a debug line when failed. */
export function statelessReport(logger: ProxyLogger | undefined): SendReport {
  return {
    sent: () => undefined,
    failed: (err) => logger?.debug({ err }, 'proxy: stateless send failed'),
  };
}

/** Runs a hook; a hook that throws is logged, never propagated into the proxy. */
export function callHook(env: ProxyEnv, name: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    env.logger?.warn({ err, hook: name }, 'proxy hook threw');
  }
}
