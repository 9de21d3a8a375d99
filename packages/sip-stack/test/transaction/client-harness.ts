/** Runs one client transaction machine on a ManualClock over a RecordingTransport. */
import type { SipRequest, SipResponse } from '../../src/message/sip-message.js';
import { InviteClientTransaction } from '../../src/transaction/invite-client-transaction.js';
import { NonInviteClientTransaction } from '../../src/transaction/non-invite-client-transaction.js';
import { resolveTimers, type TimerConfig } from '../../src/transaction/timer-config.js';
import type { ClientTransactionOptions } from '../../src/transaction/transaction.js';
import type { TransportProtocol } from '../../src/transport/transport.js';
import { ManualClock } from '../../src/util/clock.js';
import { flush, RecordingTransport } from '../support/recording-transport.js';
import { request } from './messages.js';

export interface ClientSetupOptions {
  protocol?: TransportProtocol;
  timers?: Partial<TimerConfig>;
  sendBuffer?: boolean;
  flowProtocol?: TransportProtocol;
  request?: SipRequest;
  /** Make the first send fail. */
  failFirstSend?: boolean;
}

export interface ClientHarness<T> {
  tx: T;
  clock: ManualClock;
  transport: RecordingTransport;
  /** "response 180", "timeout", "transport-error SIP_ERR_TRANSPORT", "terminated" in order. */
  events: string[];
  responses: SipResponse[];
}

async function setup<T extends InviteClientTransaction | NonInviteClientTransaction>(
  make: (o: ClientTransactionOptions) => T,
  method: string,
  options: ClientSetupOptions,
): Promise<ClientHarness<T>> {
  const clock = new ManualClock();
  const transportOptions: ConstructorParameters<typeof RecordingTransport>[0] = {};
  if (options.sendBuffer !== undefined) transportOptions.sendBuffer = options.sendBuffer;
  if (options.flowProtocol !== undefined) transportOptions.flowProtocol = options.flowProtocol;
  const transport = new RecordingTransport(transportOptions);
  if (options.failFirstSend === true) transport.failNext();
  const events: string[] = [];
  const responses: SipResponse[] = [];
  const protocol = options.protocol ?? 'udp';
  const req =
    options.request ??
    request({
      method,
      transport: protocol.toUpperCase(),
      viaHost: '0.0.0.0',
      branch: 'z9hG4bKclient1',
      viaParams: 'rport',
    });
  const tx = make({
    request: req,
    target: { protocol, address: '192.0.2.20', port: 5060 },
    transport,
    clock,
    timers: resolveTimers(options.timers),
    handler: {
      onResponse: (r) => {
        responses.push(r);
        events.push(`response ${r.status}`);
      },
      onTimeout: () => events.push('timeout'),
      onTransportError: (e) => events.push(`transport-error ${e.code}`),
    },
    onTerminated: () => events.push('terminated'),
  });
  tx.start();
  await flush();
  return { tx, clock, transport, events, responses };
}

export function inviteClient(
  options: ClientSetupOptions = {},
): Promise<ClientHarness<InviteClientTransaction>> {
  return setup((o) => new InviteClientTransaction(o), 'INVITE', options);
}

export function nonInviteClient(
  options: ClientSetupOptions & { method?: string } = {},
): Promise<ClientHarness<NonInviteClientTransaction>> {
  return setup((o) => new NonInviteClientTransaction(o), options.method ?? 'OPTIONS', options);
}

/** Clock times at which the transport saw sends, in ms, recorded by advancing step by step. */
export function sendTimes(
  h: { clock: ManualClock; transport: RecordingTransport },
  until: number,
  step = 100,
): number[] {
  const times: number[] = [];
  let seen = h.transport.sent.length;
  for (let now = h.clock.now(); now < until; now += step) {
    h.clock.advance(step);
    while (seen < h.transport.sent.length) {
      times.push(h.clock.now());
      seen++;
    }
  }
  return times;
}
