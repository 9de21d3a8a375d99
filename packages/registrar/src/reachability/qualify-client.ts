/**
 * Sends one OPTIONS to a binding to see whether it answers (Kamailio `nathelper` qualify): any
 * final response means reachable; a timeout (Timer F) or a transport error means not.
 */
import {
  createRequest,
  generateCallId,
  generateTag,
  type ClientTransaction,
  type ClientTransactionHandler,
  type SipRequest,
  type Target,
} from '@switchboard/sip-stack';
import type { Binding } from '../location/binding.js';
import { uriTarget } from '../registrar/nat.js';

export type QualifyResult =
  { ok: true; status: number } | { ok: false; reason: 'timeout' | 'transport' | 'no-target' };

export interface QualifyClient {
  qualify(binding: Binding): Promise<QualifyResult>;
}

/** The part of TransactionLayer the client uses (an endpoint's `transactions` will do). */
export interface QualifyTransactions {
  sendRequest(
    request: SipRequest,
    target: Target,
    handler: ClientTransactionHandler,
  ): ClientTransaction;
}

export interface OptionsQualifyClientOptions {
  transactions: QualifyTransactions;
  /** From URI of the OPTIONS (default `sip:registrar@invalid`). */
  from?: string;
  userAgent?: string;
  /** Call-ID of each OPTIONS (default a random one); a cluster encodes the worker replies go to. */
  callId?: () => string;
}

/** OPTIONS over a client transaction to `binding.target` (or the Contact's IP literal). */
export class OptionsQualifyClient implements QualifyClient {
  readonly #transactions: QualifyTransactions;
  readonly #from: string;
  readonly #userAgent: string | undefined;
  readonly #callId: () => string;

  constructor(options: OptionsQualifyClientOptions) {
    this.#transactions = options.transactions;
    this.#from = options.from ?? 'sip:registrar@invalid';
    this.#userAgent = options.userAgent;
    this.#callId = options.callId ?? generateCallId;
  }

  qualify(binding: Binding): Promise<QualifyResult> {
    const target = binding.target ?? uriTarget(binding.uri);
    if (target === undefined) return Promise.resolve({ ok: false, reason: 'no-target' });
    const request = createRequest({
      method: 'OPTIONS',
      uri: binding.uri,
      from: `<${this.#from}>;tag=${generateTag()}`,
      to: `<sip:${binding.aor}>`,
      callId: this.#callId(),
      cseq: 1,
      ...(binding.path === undefined ? {} : { route: [...binding.path] }),
      ...(this.#userAgent === undefined ? {} : { headers: { 'User-Agent': this.#userAgent } }),
    });
    return new Promise<QualifyResult>((resolve) => {
      try {
        this.#transactions.sendRequest(request, target, {
          onResponse: (response) => {
            if (response.status >= 200) resolve({ ok: true, status: response.status });
          },
          onTimeout: () => resolve({ ok: false, reason: 'timeout' }),
          onTransportError: () => resolve({ ok: false, reason: 'transport' }),
        });
      } catch {
        resolve({ ok: false, reason: 'transport' });
      }
    });
  }
}
