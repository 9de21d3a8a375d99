/** Runs one server transaction machine on a ManualClock over a RecordingTransport. */
import type { SipRequest } from '../../src/message/sip-message.js';
import { InviteServerTransaction } from '../../src/transaction/invite-server-transaction.js';
import { NonInviteServerTransaction } from '../../src/transaction/non-invite-server-transaction.js';
import { responseTarget } from '../../src/transport/via-stamping.js';
import { resolveTimers, type TimerConfig } from '../../src/transaction/timer-config.js';
import type { ServerTransactionOptions } from '../../src/transaction/transaction.js';
import type { TransportProtocol } from '../../src/transport/transport.js';
import { ManualClock } from '../../src/util/clock.js';
import { RecordingTransport } from '../support/recording-transport.js';
import { flow, request } from './messages.js';

export interface ServerSetupOptions {
  protocol?: TransportProtocol;
  timers?: Partial<TimerConfig>;
  request?: SipRequest;
  method?: string;
}

export interface ServerHarness<T> {
  tx: T;
  clock: ManualClock;
  transport: RecordingTransport;
  /** "error SIP_ERR_TIMEOUT", "terminated" in order. */
  events: string[];
}

function setup<T extends InviteServerTransaction | NonInviteServerTransaction>(
  make: (o: ServerTransactionOptions) => T,
  method: string,
  options: ServerSetupOptions,
): ServerHarness<T> {
  const clock = new ManualClock();
  const transport = new RecordingTransport();
  const events: string[] = [];
  const protocol = options.protocol ?? 'udp';
  const req =
    options.request ??
    request({
      method,
      transport: protocol.toUpperCase(),
      viaParams: 'received=192.0.2.10',
      extra: ['Timestamp: 54'],
    });
  const f = flow(protocol);
  const tx = make({
    request: req,
    flow: f,
    target: responseTarget(req, f),
    transport,
    clock,
    timers: resolveTimers(options.timers),
    hooks: {
      onTerminated: () => events.push('terminated'),
      onError: (e) => events.push(`error ${e.code}`),
    },
  });
  tx.start();
  return { tx, clock, transport, events };
}

export function inviteServer(
  options: ServerSetupOptions = {},
): ServerHarness<InviteServerTransaction> {
  return setup((o) => new InviteServerTransaction(o), 'INVITE', options);
}

export function nonInviteServer(
  options: ServerSetupOptions = {},
): ServerHarness<NonInviteServerTransaction> {
  return setup((o) => new NonInviteServerTransaction(o), options.method ?? 'OPTIONS', options);
}
