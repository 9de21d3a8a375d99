/**
 * What the edge counts and how `/metrics` shows it (Prometheus text exposition format 0.0.4).
 * Counters are plain numbers bumped on the signalling path; gauges are read from the layers'
 * own stats when the endpoint is scraped, so nothing is computed between scrapes.
 */
import type {
  Flow,
  ListeningPoint,
  ProxyStats,
  SendReport,
  SipMessage,
  Target,
  TransactionLayerStats,
  TransportStats,
} from '@switchboard/sip-stack';
import { EdgeCalls, type CallDisposition, type EdgeCall } from './edge-calls.js';

/** Request methods counted by name; anything else a peer sends is counted as `other`. */
export const COUNTED_METHODS = Object.freeze([
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'REGISTER',
  'OPTIONS',
  'INFO',
  'UPDATE',
  'PRACK',
  'SUBSCRIBE',
  'NOTIFY',
  'REFER',
  'MESSAGE',
  'PUBLISH',
] as const);

const DISPOSITIONS: readonly CallDisposition[] = [
  'answered',
  'no_answer',
  'busy',
  'failed',
  'rejected',
];

/** Monotonic counters of one edge node. */
export class EdgeCounters {
  /** Requests received by method (new server transactions, and ACKs for 2xx). */
  readonly requests: Record<string, number> = Object.fromEntries(
    [...COUNTED_METHODS, 'other'].map((m) => [m, 0]),
  );
  /** Responses sent by class: index 0 is 1xx ... index 5 is 6xx (first transmissions). */
  readonly responses = [0, 0, 0, 0, 0, 0];
  /** Requests sent by the node other than ACK: one client transaction each. */
  requestsSent = 0;
  acksSent = 0;
  callsStarted = 0;
  readonly callsEnded: Record<CallDisposition, number> = {
    answered: 0,
    no_answer: 0,
    busy: 0,
    failed: 0,
    rejected: 0,
  };
  /** New dialogs refused with 503 while draining. */
  drainRefused = 0;

  countRequest(method: string): void {
    // The label set stays bounded whatever methods peers invent.
    const key = Object.hasOwn(this.requests, method) ? method : 'other';
    this.requests[key] = (this.requests[key] ?? 0) + 1;
  }

  countResponse(status: number): void {
    const cls = Math.floor(status / 100) - 1;
    if (cls >= 0 && cls < 6) this.responses[cls] = (this.responses[cls] ?? 0) + 1;
  }
}

/**
 * The sending side the proxy and the transaction layer use (AnchoringTransport satisfies it).
 * With a `report` the outcome goes there (TransportLayer's allocation-free path) and the result
 * is undefined; a sender that ignores `report` returns its promise.
 */
export interface EdgeWire {
  send(message: SipMessage, target: Target, report?: SendReport): Promise<Flow> | undefined;
  sendBuffer(data: Buffer, target: Target, report?: SendReport): Promise<Flow> | undefined;
  listeningPoints(): readonly ListeningPoint[];
}

/** Counts first transmissions on their way out; retransmissions (`sendBuffer`) are not counted. */
export class CountingWire implements EdgeWire {
  readonly #inner: EdgeWire;
  readonly #counters: EdgeCounters;

  constructor(inner: EdgeWire, counters: EdgeCounters) {
    this.#inner = inner;
    this.#counters = counters;
  }

  send(message: SipMessage, target: Target, report?: SendReport): Promise<Flow> | undefined {
    if (message.kind === 'response') this.#counters.countResponse(message.status);
    else if (message.method === 'ACK') this.#counters.acksSent++;
    else this.#counters.requestsSent++;
    return this.#inner.send(message, target, report);
  }

  sendBuffer(data: Buffer, target: Target, report?: SendReport): Promise<Flow> | undefined {
    return this.#inner.sendBuffer(data, target, report);
  }

  listeningPoints(): readonly ListeningPoint[] {
    return this.#inner.listeningPoints();
  }
}

/** EdgeCalls that counts calls begun and ended (by the disposition the CDR gets). */
export class CountedCalls extends EdgeCalls {
  #counters: EdgeCounters | undefined;

  attach(counters: EdgeCounters): void {
    this.#counters = counters;
  }

  override begin(
    callId: string,
    callerTag: string | undefined,
    accountId: string | null,
  ): EdgeCall {
    if (this.#counters !== undefined && this.get(callId) === undefined)
      this.#counters.callsStarted++;
    return super.begin(callId, callerTag, accountId);
  }

  protected override ending(call: EdgeCall, disposition: CallDisposition): void {
    if (this.#counters !== undefined) this.#counters.callsEnded[disposition]++;
    super.ending(call, disposition);
  }
}

/** The relay as metrics see it (RtpRelay.info() satisfies it). */
export interface RelaySnapshot {
  mode: string;
  portMode: string;
  sessions: number;
  ports: { total: number; free: number };
}

/** Everything `/metrics` shows of one edge node, read at scrape time. */
export interface EdgeSnapshot {
  counters: EdgeCounters;
  transactions: TransactionLayerStats;
  proxy: ProxyStats;
  transport: TransportStats;
  callsActive: number;
  /** Live bindings in the location service; undefined when it could not be read. */
  registrations: number | undefined;
  relay: RelaySnapshot | undefined;
  draining: boolean;
}

type Labels = Readonly<Record<string, string>>;
type Sample = readonly [labels: Labels, value: number];

/** Prometheus text exposition: `# HELP`, `# TYPE`, then one line per sample. */
export class MetricsText {
  #out: string[] = [];

  add(name: string, type: 'counter' | 'gauge', help: string, samples: readonly Sample[]): this {
    this.#out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples)
      this.#out.push(`${name}${formatLabels(labels)} ${value}`);
    return this;
  }

  one(name: string, type: 'counter' | 'gauge', help: string, value: number): this {
    return this.add(name, type, help, [[{}, value]]);
  }

  toString(): string {
    return `${this.#out.join('\n')}\n`;
  }
}

function formatLabels(labels: Labels): string {
  const pairs = Object.entries(labels);
  if (pairs.length === 0) return '';
  const esc = (v: string): string =>
    v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
  return `{${pairs.map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}`;
}

function sipMetrics(m: MetricsText, s: EdgeSnapshot): void {
  const c = s.counters;
  const tx = s.transactions;
  m.add('switchboard_sip_transactions_active', 'gauge', 'SIP transactions alive, by kind.', [
    [{ kind: 'client' }, tx.clientTransactions],
    [{ kind: 'server' }, tx.serverTransactions],
  ]);
  const received = Object.values(c.requests).reduce((a, b) => a + b, 0);
  m.add('switchboard_sip_transactions_created_total', 'counter', 'SIP transactions created.', [
    [{ kind: 'client' }, c.requestsSent],
    // RFC 3261 §17: an ACK is never a transaction of its own.
    [{ kind: 'server' }, received - (c.requests['ACK'] ?? 0)],
  ]);
  m.add(
    'switchboard_sip_requests_received_total',
    'counter',
    'SIP requests received, by method (retransmissions excluded).',
    Object.entries(c.requests).map(([method, n]) => [{ method }, n]),
  );
  m.add(
    'switchboard_sip_responses_sent_total',
    'counter',
    'SIP responses sent, by class (retransmissions excluded).',
    c.responses.map((n, i) => [{ class: `${i + 1}xx` }, n]),
  );
  const t = s.transport;
  m.add(
    'switchboard_sip_messages_received_total',
    'counter',
    'SIP messages received, by transport.',
    Object.entries(t.received).map(([transport, n]) => [{ transport }, n]),
  );
  m.one(
    'switchboard_sip_parse_errors_total',
    'counter',
    'Messages that failed to parse.',
    t.parseErrors,
  );
  m.one(
    'switchboard_sip_dropped_total',
    'counter',
    'Messages dropped without an answer.',
    t.dropped,
  );
  m.one(
    'switchboard_sip_connections_open',
    'gauge',
    'Stream connections open.',
    t.connections.open,
  );
  m.one('switchboard_sip_proxy_contexts', 'gauge', 'Requests being proxied.', s.proxy.contexts);
}

function callMetrics(m: MetricsText, s: EdgeSnapshot): void {
  const c = s.counters;
  m.one('switchboard_calls_active', 'gauge', 'Calls (dialogs) the edge tracks.', s.callsActive);
  m.one(
    'switchboard_calls_total',
    'counter',
    'Calls routed by the brain and tracked.',
    c.callsStarted,
  );
  m.add(
    'switchboard_calls_ended_total',
    'counter',
    'Calls ended, by CDR disposition.',
    DISPOSITIONS.map((d) => [{ disposition: d }, c.callsEnded[d]]),
  );
  if (s.registrations !== undefined)
    m.one('switchboard_registrations', 'gauge', 'Live registered contacts.', s.registrations);
  m.one(
    'switchboard_draining',
    'gauge',
    '1 while a graceful stop drains calls.',
    s.draining ? 1 : 0,
  );
  m.one(
    'switchboard_drain_refused_total',
    'counter',
    'New dialogs refused with 503 while draining.',
    c.drainRefused,
  );
}

function relayMetrics(m: MetricsText, r: RelaySnapshot | undefined): void {
  if (r === undefined) return;
  m.add('switchboard_relay_info', 'gauge', 'The RTP relay forwarding mode and port mode.', [
    [{ mode: r.mode, port_mode: r.portMode }, 1],
  ]);
  m.one('switchboard_relay_sessions_active', 'gauge', 'Relay sessions open.', r.sessions);
  m.one('switchboard_relay_ports_free', 'gauge', 'Relay ports free.', r.ports.free);
  m.one('switchboard_relay_ports_total', 'gauge', 'Relay ports in the range.', r.ports.total);
}

/** The Prometheus text of one edge node. */
export function formatEdgeMetrics(s: EdgeSnapshot): string {
  const m = new MetricsText();
  sipMetrics(m, s);
  callMetrics(m, s);
  relayMetrics(m, s.relay);
  return m.toString();
}
