// Public entry of @switchboard/sip-stack. Named exports only, grouped by layer
// (message → transport → transaction → dialog → proxy | endpoint); each layer owns its block.

// --- util ---
export type { Clock, TimerHandle } from './util/clock.js';
export { systemClock, ManualClock } from './util/clock.js';

// --- message ---
export type { SipMessage, CSeq } from './message/sip-message.js';
export { SipRequest, SipResponse, SipMessageBase, parseCSeq } from './message/sip-message.js';
export type { HeaderInit } from './message/sip-headers.js';
export { SipHeaders } from './message/sip-headers.js';
export type {
  ParseResult,
  ParseOptions,
  SipParseError,
  SipParseErrorCode,
} from './message/errors.js';
export { parseMessage } from './message/parse-message.js';
export type { ValidateResult } from './message/validate-message.js';
export { validateMessage } from './message/validate-message.js';
export type { Uri, SipUri, TelUri, AbsoluteUri, ParseUriResult } from './message/sip-uri.js';
export { parseUri, formatUri, uriEquals, isSipUri, isTelUri } from './message/sip-uri.js';
export type {
  NameAddr,
  Contact,
  ParseNameAddrResult,
  ParseContactResult,
  ParseNameAddrOptions,
} from './message/name-addr.js';
export {
  parseNameAddr,
  parseContact,
  formatNameAddr,
  nameAddrUri,
  createNameAddr,
} from './message/name-addr.js';
export type { Via, ParseViaResult } from './message/via.js';
export { parseVia, formatVia } from './message/via.js';
export { canonicalHeaderName } from './message/header-names.js';
export { splitValues, quote, unquote } from './message/header-values.js';
export type { CreateResponseOptions } from './message/build-response.js';
export { createResponse } from './message/build-response.js';
export type { CreateRequestOptions } from './message/build-request.js';
export { createRequest, createAck, createCancel } from './message/build-request.js';
export { generateBranch, generateTag, generateCallId } from './message/ids.js';
export { reasonPhrase } from './message/reason-phrase.js';

// --- transport ---
export type {
  Endpoint,
  Flow,
  Target,
  IncomingMessage,
  ListenSpec,
  ListeningPoint,
  TlsListenOptions,
  TlsCertificateFiles,
  TransportLogger,
  TransportSender,
  ReportingSender,
  SendReport,
  MessageHandler,
  FlowClosedHandler,
  FlowCloseReason,
} from './transport/transport.js';
export {
  TransportProtocol,
  TRANSPORT_PROTOCOLS,
  DEFAULT_PORTS,
  isStreamProtocol,
  viaTransportToken,
  protocolFromViaTransport,
  sendReported,
} from './transport/transport.js';
export { TransportLayer } from './transport/transport-layer.js';
export type { InboundDispatch, RemoteFlows } from './transport/remote-flows.js';
export { parseFlowId, isDatagramProtocol } from './transport/remote-flows.js';
export type { TransportLayerOptions } from './transport/transport-layer-options.js';
export type { TlsClientOptions } from './transport/stream-connector.js';
export type {
  TransportStats,
  ConnectionStats,
  ProtocolCounters,
} from './transport/transport-stats.js';
export { TransportError, TransportErrorCode } from './transport/transport-error.js';
export { responseTarget, stampReceived, VIA_PLACEHOLDER_HOST } from './transport/via-stamping.js';

// --- transaction ---
export type { TimerConfig } from './transaction/timer-config.js';
export { DEFAULT_TIMERS, resolveTimers } from './transaction/timer-config.js';
export { TransactionError, TransactionErrorCode } from './transaction/transaction-error.js';
export type {
  ClientTransaction,
  ServerTransaction,
  Transaction,
  ClientTransactionOptions,
  ServerTransactionOptions,
  ServerTransactionHooks,
} from './transaction/transaction.js';
export type { TransactionUser, ClientTransactionHandler } from './transaction/transaction-user.js';
export type { BufferSender, TransactionTransport } from './transaction/wire-message.js';
export {
  InviteClientTransaction,
  InviteClientState,
} from './transaction/invite-client-transaction.js';
export {
  NonInviteClientTransaction,
  NonInviteClientState,
} from './transaction/non-invite-client-transaction.js';
export {
  InviteServerTransaction,
  InviteServerState,
  TRYING_DELAY_MS,
} from './transaction/invite-server-transaction.js';
export {
  NonInviteServerTransaction,
  NonInviteServerState,
} from './transaction/non-invite-server-transaction.js';
export type {
  TransactionLayerOptions,
  TransactionLayerStats,
  TransactionLogger,
} from './transaction/transaction-layer.js';
export { TransactionLayer } from './transaction/transaction-layer.js';
export { MAGIC_COOKIE, clientKey, serverKey } from './transaction/transaction-key.js';

// --- dialog ---
export type { DialogId } from './dialog/dialog-id.js';
export {
  dialogKey,
  incomingRequestDialogId,
  incomingResponseDialogId,
} from './dialog/dialog-id.js';
export type {
  DialogRole,
  DialogInit,
  InDialogRequestOptions,
  RemoteCSeqCheck,
} from './dialog/dialog.js';
export { Dialog, DialogState, TARGET_REFRESH_METHODS } from './dialog/dialog.js';
export type { CreateDialogResult } from './dialog/create-dialog.js';
export { createUacDialog, createUasDialog } from './dialog/create-dialog.js';
export { DialogStore } from './dialog/dialog-store.js';
export { DialogError, DialogErrorCode } from './dialog/dialog-error.js';
export type { RequestRouting } from './dialog/route-set.js';
export { routeRequest, isLooseRoute } from './dialog/route-set.js';

// --- auth ---
export type { DigestAlgorithm, DigestQop, DigestResponseParams } from './auth/digest-algorithm.js';
export {
  DIGEST_ALGORITHMS,
  computeHa1,
  computeDigestResponse,
  computeUserhash,
  digestHash,
  parseDigestAlgorithm,
} from './auth/digest-algorithm.js';
export type { AuthParams, AuthParamValue, AuthParamsResult } from './auth/parse-auth-params.js';
export { parseAuthParams } from './auth/parse-auth-params.js';
export type { DigestCredentials, DigestCredentialsResult } from './auth/digest-credentials.js';
export {
  parseDigestCredentials,
  digestCredentialsFrom,
  formatDigestCredentials,
} from './auth/digest-credentials.js';
export type { DigestChallenge, DigestChallengeResult } from './auth/digest-challenge.js';
export { parseDigestChallenge, formatDigestChallenge } from './auth/digest-challenge.js';
export type { DigestSecret } from './auth/digest-nonce.js';
export { AuthConfigError } from './auth/auth-config-error.js';
export type {
  DigestMode,
  DigestFailureReason,
  Ha1Lookup,
  UserhashLookup,
  DigestVerifyResult,
  DigestNonceAccepted,
  DigestNonceCheck,
  DigestServerOptions,
  DigestChallengeHeaders,
} from './auth/digest-server.js';
export { DigestServer } from './auth/digest-server.js';
export type {
  DigestUserCredentials,
  DigestCredentialsProvider,
  DigestCredentialSource,
  DigestClientOptions,
  DigestAuthorizeFailure,
  DigestAuthorizeResult,
} from './auth/digest-client.js';
export { DigestClient } from './auth/digest-client.js';

// --- dns ---
export type {
  DnsResolver,
  DnsAddressRecord,
  DnsSrvRecord,
  DnsNaptrRecord,
  NodeDnsResolverOptions,
} from './dns/dns-resolver.js';
export { createNodeDnsResolver } from './dns/dns-resolver.js';
export type { DnsCacheOptions, DnsAnswer, DnsCacheStats } from './dns/dns-cache.js';
export { DnsCache } from './dns/dns-cache.js';
export { orderSrvRecords, orderNaptrRecords } from './dns/order-srv-records.js';
export type { SipTransportProtocol, SipResolvedTarget } from './dns/sip-target-iterator.js';
export { SipTargetIterator } from './dns/sip-target-iterator.js';
export type { SipResolvableUri, SipResolverOptions } from './dns/sip-resolver.js';
export { SipResolver, defaultPortFor } from './dns/sip-resolver.js';

// --- proxy ---
export { SipProxy } from './proxy/proxy.js';
export type { ProxyStats } from './proxy/proxy.js';
export type {
  ProxyOptions,
  ProxyTransport,
  ProxyLogger,
  ProxyAlias,
} from './proxy/proxy-options.js';
export type {
  RouteDecision,
  ForwardTarget,
  ForwardHeaders,
  RouteContext,
  RouteFunction,
  ForwardGroups,
  BranchOutcome,
  GroupOutcome,
  GroupVerdict,
  AfterGroupFunction,
  DelegateHandler,
} from './proxy/route-decision.js';
export type { ProxyHooks, BranchResponseEvent, FinalResponseEvent } from './proxy/proxy-hooks.js';
export { chooseBestResponse } from './proxy/best-response.js';

// --- endpoint ---
export { attachEndpoint, createEndpoint, SipEndpoint } from './endpoint/sip-endpoint.js';
export type { SipEndpointEvents } from './endpoint/sip-endpoint.js';
export type {
  AttachEndpointOptions,
  EndpointAttachment,
  EndpointOptions,
  EndpointLogger,
  HeaderValues,
  RequestOptionsBase,
  RequestOptions,
  InviteOptions,
  RespondOptions,
  ProgressOptions,
  AcceptOptions,
  DialogRequestOptions,
  ProvisionalHandler,
} from './endpoint/endpoint-options.js';
export { EndpointError, EndpointErrorCode } from './endpoint/endpoint-error.js';
export type { EndpointErrorOptions } from './endpoint/endpoint-error.js';
export { IncomingRequest } from './endpoint/incoming-request.js';
export type { IncomingRequestEvents } from './endpoint/incoming-request.js';
export type { RequestHandler } from './endpoint/ua-core.js';
export { OutgoingInvite } from './endpoint/outgoing-invite.js';
export type {
  InviteResult,
  OutgoingInviteState,
  OutgoingInviteEvents,
} from './endpoint/outgoing-invite.js';
export { DialogSession } from './endpoint/dialog-session.js';
export type {
  DialogSessionState,
  DialogSessionEvents,
  DialogRequestHandler,
  TerminationReason,
} from './endpoint/dialog-session.js';
export { TypedEmitter } from './endpoint/typed-emitter.js';
export type { EventMap, Listener } from './endpoint/typed-emitter.js';
