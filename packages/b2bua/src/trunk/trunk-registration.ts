/**
 * Registration with a carrier (RFC 3261 §10.2): REGISTER with our Contact, digest answered by the
 * endpoint (§22.2), refreshed before it expires (§10.2.4: same Call-ID, CSeq + 1), moved to the
 * next registrar when one fails, and retried from the first after all failed.
 */
import { TypedEmitter, systemClock } from '@switchboard/sip-stack';
import type {
  Clock,
  DigestCredentialSource,
  SipEndpoint,
  SipResponse,
  TimerHandle,
} from '@switchboard/sip-stack';

export interface TrunkRegistrationOptions {
  endpoint: SipEndpoint;
  /** Registrar URIs in order of preference, e.g. ['sip:reg1.carrier.example', 'sip:reg2.carrier.example']. */
  registrars: readonly string[];
  /** Address of record at the carrier (To and From), e.g. 'sip:4420790000@carrier.example'. */
  aor: string;
  credentials?: DigestCredentialSource;
  /** Requested expiry in seconds (default 3600). */
  expires?: number;
  /** Wait after every registrar failed, before starting again (default 30 000 ms). */
  retryMs?: number;
  clock?: Clock;
}

export type TrunkRegistrationState = 'idle' | 'registering' | 'registered' | 'failed' | 'stopped';

export type TrunkRegistrationEvents = {
  registered: [info: { registrar: string; expires: number }];
  /** Every registrar failed; a new round starts after `retryMs`. */
  failed: [info: { status: number | undefined; reason: string }];
  state: [state: TrunkRegistrationState];
};

/** RFC 3261 §10.2.4: refresh ahead of expiry, by a margin of at most a minute. */
function refreshDelayMs(expires: number): number {
  return Math.max(1, expires - Math.min(60, expires / 2)) * 1000;
}

/** The expiry the registrar granted: our Contact's expires param, else Expires, else asked. */
function grantedExpires(response: SipResponse, asked: number): number {
  const contact = response.contacts.find((c) => c.expires !== undefined);
  if (contact?.expires !== undefined) return contact.expires;
  const header = Number(response.headers.get('Expires'));
  return Number.isInteger(header) && header >= 0 ? header : asked;
}

export class TrunkRegistration extends TypedEmitter<TrunkRegistrationEvents> {
  readonly #options: TrunkRegistrationOptions;
  readonly #clock: Clock;
  /** RFC 3261 §10.2.4: one Call-ID for all registrations of this AOR from us. */
  readonly #callId: string;
  #cseq = 1;
  #index = 0;
  #expires: number;
  #timer: TimerHandle | undefined;
  #state: TrunkRegistrationState = 'idle';
  #registrar: string | undefined;

  constructor(options: TrunkRegistrationOptions) {
    super();
    // RFC 3261 §10.2.4: one Call-ID for every refresh of this registration
    this.#callId = options.endpoint.newCallId();
    if (options.registrars.length === 0)
      throw new RangeError('a trunk registration needs a registrar');
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#expires = options.expires ?? 3600;
  }

  get state(): TrunkRegistrationState {
    return this.#state;
  }

  /** The registrar we are registered with. */
  get registrar(): string | undefined {
    return this.#state === 'registered' ? this.#registrar : undefined;
  }

  start(): void {
    if (this.#state !== 'idle' && this.#state !== 'failed') return;
    this.#index = 0;
    void this.#register();
  }

  /** Stops refreshing and removes the binding (Expires: 0) when registered. */
  async stop(): Promise<void> {
    const registrar = this.#registrar;
    const wasRegistered = this.#state === 'registered';
    this.#clock.clearTimeout(this.#timer);
    this.#setState('stopped');
    if (!wasRegistered || registrar === undefined) return;
    await this.#send(registrar, 0).catch(() => undefined);
  }

  #stopped(): boolean {
    return this.#state === 'stopped';
  }

  async #register(): Promise<void> {
    if (this.#stopped()) return;
    const registrar = this.#options.registrars[this.#index];
    if (registrar === undefined) return;
    this.#setState('registering');
    let response: SipResponse | undefined;
    let reason = '';
    try {
      response = await this.#send(registrar, this.#expires);
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
    if (this.#stopped()) return;
    if (response?.status === 423) {
      // RFC 3261 §10.2.8: 423 Interval Too Brief carries the smallest expiry accepted.
      const min = Number(response.headers.get('Min-Expires'));
      if (Number.isInteger(min) && min > this.#expires) {
        this.#expires = min;
        void this.#register();
        return;
      }
    }
    if (response !== undefined && response.status >= 200 && response.status < 300) {
      this.#onRegistered(registrar, grantedExpires(response, this.#expires));
      return;
    }
    this.#failover(
      response?.status,
      response === undefined ? reason : `${response.status} ${response.reason}`,
    );
  }

  #onRegistered(registrar: string, expires: number): void {
    this.#registrar = registrar;
    this.#setState('registered');
    this.emit('registered', { registrar, expires });
    this.#timer = this.#clock.setTimeout(() => void this.#register(), refreshDelayMs(expires));
  }

  /** The next registrar now; after the last, the first again after `retryMs`. */
  #failover(status: number | undefined, reason: string): void {
    this.#index++;
    if (this.#index < this.#options.registrars.length) {
      void this.#register();
      return;
    }
    this.#index = 0;
    this.#registrar = undefined;
    this.#setState('failed');
    this.emit('failed', { status, reason });
    this.#timer = this.#clock.setTimeout(
      () => void this.#register(),
      this.#options.retryMs ?? 30_000,
    );
  }

  async #send(registrar: string, expires: number): Promise<SipResponse> {
    const { endpoint, aor, credentials } = this.#options;
    const response = await endpoint.request({
      method: 'REGISTER',
      uri: registrar,
      from: `<${aor}>`,
      to: `<${aor}>`,
      callId: this.#callId,
      cseq: this.#cseq,
      headers: { Expires: String(expires) },
      ...(credentials === undefined ? {} : { credentials }),
    });
    // RFC 3261 §10.2.4: the next REGISTER takes a higher CSeq (a digest retry used one more).
    this.#cseq = response.cseq.seq + 1;
    return response;
  }

  #setState(state: TrunkRegistrationState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
  }
}
