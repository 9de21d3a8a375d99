/**
 * From an `outbound` directive to B2BUA call plans: one plan per trunk hop in failover order, with
 * the trunk's digest credentials (from the secret store), caller ID, custom headers and its
 * `max_channels` limiter.
 */
import { ChannelLimiter, type CallPlan, type CallerIdPolicy } from '@switchboard/b2bua';
import type { DigestCredentialSource, SipRequest } from '@switchboard/sip-stack';
import type { OutboundDirective, TrunkHop } from '../brain/directive.js';
import { gatewayPort, type TrunkGateway } from '../edge/trunk-dispatcher.js';
import type { SecretStore } from '../store/secret-store.js';

/** Default answer timeout of a trunk leg (ms): carriers usually give up first. */
const ANSWER_TIMEOUT_MS = 120_000;

export interface TrunkAttempt {
  trunkId: string;
  /** The trunk's gateway as the dispatcher knows it (health, failover). */
  gateway: TrunkGateway;
  /** The trunk's `max_channels`, when it has one. */
  limiter: ChannelLimiter | undefined;
  plan: CallPlan;
}

/** The gateway a hop names (default port per transport, RFC 3261 §19.1.2). */
export function hopGateway(hop: TrunkHop): TrunkGateway {
  return { host: hop.host, port: gatewayPort(hop.port, hop.transport), transport: hop.transport };
}

export interface TrunkPlansOptions {
  /** Resolves `auth_secret_ref` to the trunk password. */
  secrets: Pick<SecretStore, 'get'>;
  answerTimeoutMs?: number;
  /** Headers of the caller's INVITE passed to the trunk (e.g. Diversion); default none. */
  passHeaders?: readonly string[];
}

/** RFC 3261 §25.1: user = unreserved / escaped / user-unreserved ('+' stays as it is). */
const NOT_USER_CHAR = /[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/;

function escapeUser(user: string): string {
  // Dialled numbers are almost always digits: nothing to escape, no new string.
  if (!NOT_USER_CHAR.test(user)) return user;
  return user.replace(/[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/g, (c) =>
    [...Buffer.from(c, 'utf8')]
      .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
  );
}

/** RFC 3261 §19.1.1: a SIP URI for the dialled number at the trunk's host, port and transport. */
export function trunkUri(hop: TrunkHop): string {
  const host = hop.host.includes(':') && !hop.host.startsWith('[') ? `[${hop.host}]` : hop.host;
  const port = hop.port === null ? '' : `:${hop.port}`;
  const transport = hop.transport === 'udp' ? '' : `;transport=${hop.transport}`;
  const scheme = hop.transport === 'tls' ? 'sips' : 'sip';
  return `${scheme}:${escapeUser(hop.number)}@${host}${port}${transport}`;
}

/** RFC 3323 §4.2: the caller asked for its identity to be withheld. */
function wantsPrivacy(request: SipRequest): boolean {
  return /(^|[\s,;])id([\s,;]|$)/i.test(request.headers.get('Privacy') ?? '');
}

export class TrunkPlans {
  readonly #o: TrunkPlansOptions;
  /** max_channels per trunk, for the life of the node (a changed limit starts a new limiter). */
  readonly #limiters = new Map<string, ChannelLimiter>();

  constructor(options: TrunkPlansOptions) {
    this.#o = options;
  }

  /** The limiter of a trunk, or undefined when it has no `max_channels`. */
  limiter(hop: Pick<TrunkHop, 'trunkId' | 'maxChannels'>): ChannelLimiter | undefined {
    if (hop.maxChannels === null) return undefined;
    const existing = this.#limiters.get(hop.trunkId);
    if (existing?.max === hop.maxChannels) return existing;
    const limiter = new ChannelLimiter(Math.max(0, Math.floor(hop.maxChannels)));
    this.#limiters.set(hop.trunkId, limiter);
    return limiter;
  }

  /**
   * One attempt per hop, in failover order; hops whose trunk is at `max_channels` are left out
   * (the next trunk takes the call). A hop whose secret cannot be read goes without credentials
   * (the carrier's 401/407 then ends that attempt).
   */
  async attempts(d: OutboundDirective, request: SipRequest): Promise<TrunkAttempt[]> {
    const out: TrunkAttempt[] = [];
    for (const hop of d.trunks) {
      const limiter = this.limiter(hop);
      if (limiter !== undefined && limiter.inUse >= limiter.max) continue;
      out.push({
        trunkId: hop.trunkId,
        gateway: hopGateway(hop),
        limiter,
        plan: await this.#plan(hop, limiter, request),
      });
    }
    return out;
  }

  async #plan(
    hop: TrunkHop,
    limiter: ChannelLimiter | undefined,
    request: SipRequest,
  ): Promise<CallPlan> {
    const credentials = await this.#credentials(hop);
    const callerId: CallerIdPolicy = {
      ...(hop.callerId === null ? {} : { number: hop.callerId }),
      ...(wantsPrivacy(request) ? { privacy: 'id' as const, assertIdentity: true } : {}),
    };
    return {
      targets: [
        {
          uri: trunkUri(hop),
          ...(credentials === undefined ? {} : { credentials }),
          ...(hop.customHeaders === null ? {} : { headers: { ...hop.customHeaders } }),
        },
      ],
      policy: {
        callerId,
        headers: { pass: this.#o.passHeaders ?? [] },
      },
      answerTimeoutMs: this.#o.answerTimeoutMs ?? ANSWER_TIMEOUT_MS,
      ...(limiter === undefined ? {} : { channels: [limiter] }),
    };
  }

  async #credentials(hop: TrunkHop): Promise<DigestCredentialSource | undefined> {
    if (hop.authUsername === null || hop.authSecretRef === null) return undefined;
    const password = await this.#o.secrets.get(hop.authSecretRef);
    if (password === undefined) return undefined;
    return { username: hop.authUsername, password };
  }
}
