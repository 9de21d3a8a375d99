/** What the parts of an endpoint share (internal; embedders see the Endpoint class). */
import type { DigestClient, DigestCredentialSource } from '../auth/digest-client.js';
import type { Dialog } from '../dialog/dialog.js';
import type { DialogStore } from '../dialog/dialog-store.js';
import type { SipMessage } from '../message/sip-message.js';
import type { TimerConfig } from '../transaction/timer-config.js';
import type { TransactionLayer } from '../transaction/transaction-layer.js';
import type { TransportLayer } from '../transport/transport-layer.js';
import type { Target } from '../transport/transport.js';
import type { Clock } from '../util/clock.js';
import type { DialogSession } from './dialog-session.js';
import type { EndpointLogger } from './endpoint-options.js';
import type { IncomingRequest } from './incoming-request.js';
import type { LocalContact } from './local-contact.js';
import type { NextHop } from './next-hop.js';

export interface EndpointContext {
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayer;
  readonly clock: Clock;
  readonly timers: TimerConfig;
  readonly logger: EndpointLogger;
  readonly contact: LocalContact;
  readonly nextHop: NextHop;
  readonly digest: DigestClient;
  readonly dialogs: DialogStore;
  readonly userAgent: string | undefined;
  readonly credentials: DigestCredentialSource | undefined;
  readonly closed: boolean;
  /** Allow header value: the methods this endpoint answers (RFC 3261 §20.5). */
  allow(): string;
  /** Runs `fn` when the endpoint closes; returns a function that cancels that. */
  onClose(fn: () => void): () => void;
  /** A new dialog: stored for in-dialog routing and announced on the endpoint. */
  addSession(session: DialogSession): void;
  /** A terminated dialog leaves the store. */
  removeSession(session: DialogSession): void;
  sessionFor(dialog: Dialog): DialogSession | undefined;
  /** Sends without a transaction (ACK for 2xx, 2xx retransmissions); failures are logged only. */
  sendStateless(message: SipMessage, target: Target): void;
  /** The INVITE request a CANCEL may target is done with (final response sent). */
  inviteAnswered(incoming: IncomingRequest): void;
  /** A handler failed: logged, and 500 when nothing was answered yet. */
  handlerFailed(incoming: IncomingRequest, error: unknown): void;
}
