/** Options of the Endpoint API: the endpoint itself, requests it sends and answers it gives. */
import type { DigestCredentialSource } from '../auth/digest-client.js';
import type { SipResolver } from '../dns/sip-resolver.js';
import type { NameAddr } from '../message/name-addr.js';
import type { SipResponse } from '../message/sip-message.js';
import type { TimerConfig } from '../transaction/timer-config.js';
import type { TransactionLayer } from '../transaction/transaction-layer.js';
import type { TransportLayer } from '../transport/transport-layer.js';
import type { TransportLayerOptions } from '../transport/transport-layer-options.js';
import type { ListenSpec, Target } from '../transport/transport.js';
import type { Clock } from '../util/clock.js';

/** Pino-compatible logger, the subset the endpoint uses. */
export interface EndpointLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type HeaderValues = Record<string, string | readonly string[]>;

export interface EndpointOptions {
  /** Listening points to open (port 0 = ephemeral). At least one. */
  listen: readonly ListenSpec[];
  clock?: Clock;
  /** T1/T2/T4 (and derived timers) for every transaction and for 2xx retransmission. */
  timers?: Partial<TimerConfig>;
  logger?: EndpointLogger;
  /** Written as User-Agent on requests and Server on responses this endpoint creates. */
  userAgent?: string;
  /** Host written into our Contact URIs (default: the advertised or bound address). */
  contactHost?: string;
  /** User part of our Contact URIs (default none). */
  contactUser?: string;
  /** Default From of requests that name none (default `<sip:anonymous@contactHost>`). */
  from?: string;
  /** Credentials used to answer 401/407 when a request gives none. */
  credentials?: DigestCredentialSource;
  /** RFC 3263 resolution of host names (default: a SipResolver on node:dns, made on first use). */
  resolver?: SipResolver;
  /** Option tags we support; a request that Requires another gets 420 (RFC 3261 §8.2.2.3). */
  supported?: readonly string[];
  /** Extra transport settings (idle timeouts, limits, TLS client). */
  transport?: Omit<TransportLayerOptions, 'clock' | 'logger'>;
  /**
   * Makes the Call-ID of every request this endpoint starts (not in a dialog, no `callId` given);
   * default `generateCallId`. A multi-process host encodes which process owns the call in it.
   */
  callId?: () => string;
}

/** The layers an attached endpoint shares with its host (a proxy node). */
export interface EndpointAttachment {
  transport: TransportLayer;
  transactions: TransactionLayer;
}

/** `attachEndpoint`: the endpoint options without listening points, plus the host's layers. */
export interface AttachEndpointOptions
  extends Omit<EndpointOptions, 'listen' | 'transport'>, EndpointAttachment {}

/** A response from the peer other than the final one (1xx). */
export type ProvisionalHandler = (response: SipResponse) => void;

/** Options shared by every request the endpoint sends. */
export interface RequestOptionsBase {
  headers?: HeaderValues;
  body?: Buffer | string;
  contentType?: string;
  /** Where to send (skips RFC 3263); e.g. the flow a registration came in on. */
  target?: Target;
  /** Answer a 401/407 once with these (else the endpoint's default credentials). */
  credentials?: DigestCredentialSource;
  onProvisional?: ProvisionalHandler;
}

/** An out-of-dialog request (`endpoint.request`). */
export interface RequestOptions extends RequestOptionsBase {
  method: string;
  /** Request-URI. */
  uri: string;
  /** Default: the endpoint's `from`. A tag is added when missing. */
  from?: string | NameAddr;
  /** Default: the Request-URI. */
  to?: string | NameAddr;
  callId?: string;
  /** Default 1 (RFC 3261 §8.1.1.5 allows any value below 2**31). */
  cseq?: number;
  /** Pre-loaded Route set (e.g. an outbound proxy, RFC 3261 §8.1.2). */
  route?: readonly string[];
  /** Max-Forwards (default 70); a B2BUA passes on the caller's value minus one to stop loops. */
  maxForwards?: number;
  /** Our Contact: default one built from the listening point for REGISTER, SUBSCRIBE, REFER and INVITE; false omits it. */
  contact?: string | false;
}

export interface InviteOptions extends Omit<RequestOptions, 'method'> {
  /** Send CANCEL when no final response came within this many ms (default 180000; 0 = never). */
  timeoutMs?: number;
}

/** How to answer a request. */
export interface RespondOptions {
  reason?: string;
  headers?: HeaderValues;
  body?: Buffer | string;
  contentType?: string;
}

/** A provisional answer to an INVITE. */
export interface ProgressOptions extends RespondOptions {
  /**
   * RFC 3262: send it reliably (Require: 100rel, RSeq, retransmitted until PRACK) when the INVITE
   * supports 100rel; otherwise it goes unreliably. Makes an early dialog for the PRACK.
   */
  reliable?: boolean;
}

/** How to answer an INVITE with 2xx. */
export interface AcceptOptions extends RespondOptions {
  /** Default 200. */
  status?: number;
}

/** An in-dialog request (`dialog.request`). */
export interface DialogRequestOptions {
  headers?: HeaderValues;
  body?: Buffer | string;
  contentType?: string;
  credentials?: DigestCredentialSource;
  onProvisional?: ProvisionalHandler;
}
