import type { SipResolver } from '../dns/sip-resolver.js';
import type { TransactionLayer } from '../transaction/transaction-layer.js';
import type { ListeningPoint, ReportingSender } from '../transport/transport.js';
import type { Clock } from '../util/clock.js';
import type { ProxyHooks } from './proxy-hooks.js';
import type { RouteFunction } from './route-decision.js';

/**
 * What the proxy needs of the transport layer: stateless sends (reported, or as a promise) and
 * the listening points.
 */
export interface ProxyTransport extends ReportingSender {
  listeningPoints(): readonly ListeningPoint[];
}

/** Pino-compatible logger subset. */
export interface ProxyLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Another name this proxy answers to (a DNS name, a VIP); no port = any port. */
export interface ProxyAlias {
  host: string;
  port?: number;
}

export interface ProxyOptions {
  transactions: TransactionLayer;
  transport: ProxyTransport;
  route: RouteFunction;
  /** The clock the transaction layer runs on (Timer C). Default: the system clock. */
  clock?: Clock;
  /** RFC 3263 resolution of host names; default: a SipResolver on node:dns, made on first use. */
  resolver?: SipResolver;
  /** Timer C, ms (RFC 3261 §16.6 item 11: > 3 min). Default: the transaction layer's `timerC`. */
  timerC?: number;
  /** Record-Route initial requests unless the decision says otherwise (default true). */
  recordRoute?: boolean;
  /** Option tags this proxy supports in Proxy-Require (RFC 3261 §16.3 item 5). Default none. */
  supported?: readonly string[];
  /** Request-URI schemes this proxy routes (RFC 3261 §16.3 item 2). Default sip, sips, tel. */
  schemes?: readonly string[];
  /** Names besides the listening points that mean "this proxy" in Route, Request-URI and Via. */
  aliases?: readonly ProxyAlias[];
  /** Host to put in Record-Route for listening points bound to a wildcard address. */
  recordRouteHost?: string;
  /**
   * Alias Contacts that do not name where a request or response came from (UAs behind NAT, stream
   * flows), as Kamailio's `add_contact_alias`, and route in-dialog requests by such an alias
   * (`handle_ruri_alias`). Applied only to requests we Record-Route or are on the route set of.
   * Default true.
   */
  contactAlias?: boolean;
  /** Ask `route` for requests with a To tag too (default false: they follow Route / Request-URI). */
  routeInDialog?: boolean;
  hooks?: ProxyHooks;
  logger?: ProxyLogger;
}
