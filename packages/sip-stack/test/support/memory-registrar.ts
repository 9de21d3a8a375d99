/**
 * A tiny in-memory registrar for tests, built on the Endpoint API: REGISTER with digest
 * (DigestServer), bindings per address-of-record with the flow they came in on.
 */
import { DigestServer } from '../../src/auth/digest-server.js';
import type { DigestAlgorithm } from '../../src/auth/digest-algorithm.js';
import { computeHa1 } from '../../src/auth/digest-algorithm.js';
import type { IncomingRequest } from '../../src/endpoint/incoming-request.js';
import type { SipEndpoint } from '../../src/endpoint/sip-endpoint.js';
import { parseUri, isSipUri } from '../../src/message/sip-uri.js';
import type { Flow, Target } from '../../src/transport/transport.js';

export interface Binding {
  aor: string;
  /** The Contact URI as the UA wrote it. */
  contact: string;
  /** The flow the REGISTER came in on (RFC 5626: requests to the UA go back over it). */
  flow: Flow;
  expires: number;
}

export interface MemoryRegistrarOptions {
  realm: string;
  /** username → password */
  users: Readonly<Record<string, string>>;
  algorithms?: readonly DigestAlgorithm[];
}

/** `sip:user@host` of a URI (no port, parameters or headers). */
export function aorOf(uri: string): string | undefined {
  const p = parseUri(uri);
  if (!p.ok || !isSipUri(p.uri)) return undefined;
  return `sip:${p.uri.user ?? ''}@${p.uri.host}`;
}

export class MemoryRegistrar {
  readonly bindings = new Map<string, Binding[]>();
  readonly digest: DigestServer;
  readonly #users: Readonly<Record<string, string>>;
  challenges = 0;
  /** Every REGISTER that reached the handler, in order. */
  readonly seen: IncomingRequest[] = [];

  constructor(endpoint: SipEndpoint, options: MemoryRegistrarOptions) {
    this.#users = options.users;
    this.digest = new DigestServer({
      realm: options.realm,
      ...(options.algorithms === undefined ? {} : { algorithms: options.algorithms }),
    });
    endpoint.onRequest('REGISTER', (req) => this.#onRegister(req));
  }

  lookup(aor: string): Binding | undefined {
    return this.bindings.get(aor)?.[0];
  }

  /** Where a request to this binding goes: its stream flow, else the Contact's address. */
  static targetFor(binding: Binding): Target {
    const f = binding.flow;
    const t: Target = { protocol: f.protocol, address: f.remote.address, port: f.remote.port };
    if (f.protocol !== 'udp' && f.flowId !== undefined) t.flowId = f.flowId;
    return t;
  }

  async #onRegister(req: IncomingRequest): Promise<void> {
    this.seen.push(req);
    const verdict = await this.digest.verify(req.request, (user, realm, algorithm) => {
      const password = this.#users[user];
      return password === undefined ? undefined : computeHa1(algorithm, user, realm, password);
    });
    if (!verdict.ok) {
      this.challenges++;
      req.respondWith(verdict.response);
      return;
    }
    const aor = aorOf(req.request.to.uri);
    if (aor === undefined) {
      req.respond(400, { reason: 'Bad To' });
      return;
    }
    const headerExpires = Number(req.request.headers.get('Expires') ?? '3600');
    let list = this.bindings.get(aor) ?? [];
    for (const c of req.request.contacts) {
      if (c.star) {
        list = [];
        continue;
      }
      const expires = c.expires ?? headerExpires;
      list = list.filter((b) => b.contact !== c.uri);
      if (expires > 0) list.push({ aor, contact: c.uri, flow: req.flow, expires });
    }
    this.bindings.set(aor, list);
    req.respond(200, {
      headers: { Contact: list.map((b) => `<${b.contact}>;expires=${b.expires}`) },
    });
  }
}
