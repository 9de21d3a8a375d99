/**
 * Builds the Binding a REGISTER's Contact asks for (RFC 3261 §10.3 step 7, RFC 5626 §6). What a
 * binding keeps lives for an hour, so every string is copied off the message (a slice would keep
 * the whole message text alive) and whatever many bindings have in common is shared: the local
 * endpoint of a listening point, User-Agent values, the source address with the target's.
 */
import type { Flow, SipRequest } from '@switchboard/sip-stack';
import type { AuthIdentity, Binding } from '../location/binding.js';
import { detachString } from '../util/detach-string.js';
import type { Aor } from './aor.js';
import { routeBinding, type NatMode } from './nat.js';
import type { RequestedContact } from './register-contacts.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Distinct local endpoints and User-Agent values shared between bindings (bounded memory). */
const MAX_SHARED = 1024;
const MAX_USER_AGENT = 256;

/** What one REGISTER asks for, once validated. */
export interface BindingRequest {
  request: SipRequest;
  flow: Flow;
  aor: Aor;
  identity: AuthIdentity | undefined;
  path: string[];
}

export interface BindingBuilderOptions {
  nat: NatMode;
  /** `<node>|<flowId>`: the key of the flow a binding dies with. */
  flowKey: (flowId: string) => string;
}

/** The identity copied off the message, in one object literal (no fields added later). */
function detachIdentity(i: AuthIdentity): AuthIdentity {
  const username = detachString(i.username);
  const { realm, attributes } = i;
  if (realm === undefined)
    return attributes === undefined ? { username } : { username, attributes };
  return attributes === undefined
    ? { username, realm: detachString(realm) }
    : { username, realm: detachString(realm), attributes };
}

/** `uri` as a view of `contact` when the contact is `<uri>...`: one string kept for both. */
function uriWithin(contact: string, uri: string): string | undefined {
  const end = uri.length + 1;
  if (contact.charCodeAt(0) !== 0x3c || contact.charCodeAt(end) !== 0x3e) return undefined;
  return contact.startsWith(uri, 1) ? contact.slice(1, end) : undefined;
}

export class BindingBuilder {
  readonly #options: BindingBuilderOptions;
  readonly #locals = new Map<string, Flow['local']>();
  #lastLocal: [from: Flow['local'], to: Flow['local']] | undefined;
  readonly #userAgents = new Map<string, string>();

  constructor(options: BindingBuilderOptions) {
    this.#options = options;
  }

  /** The binding for Contact `c` of the request, registered at clock time `now`. */
  build(req: BindingRequest, c: RequestedContact, now: number): Binding {
    const { request, flow } = req;
    const path = req.path.length > 0 ? req.path.map((p) => detachString(p)) : undefined;
    const source = this.#source(flow);
    const route = routeBinding(c.uri, source, {
      outbound: c.outbound,
      path,
      nat: this.#options.nat,
      parsedUri: c.sipUri,
    });
    const contact = detachString(c.echo);
    const uri = uriWithin(contact, c.uri) ?? detachString(c.uri);
    const b: Mutable<Binding> = {
      aor: detachString(req.aor.key),
      key: c.key === c.uri ? uri : detachString(c.key),
      uri,
      contact,
      expiresAt: now + c.expires * 1000,
      callId: detachString(request.callId),
      cseq: request.cseq.seq,
      source,
      outbound: c.outbound,
      registeredAt: now,
      updatedAt: now,
    };
    if (c.q !== undefined) b.q = c.q;
    if (c.instanceId !== undefined) b.instanceId = detachString(c.instanceId);
    if (c.regId !== undefined) b.regId = c.regId;
    if (path !== undefined) b.path = path;
    if (route.received !== undefined) b.received = route.received;
    const target = route.target;
    if (target !== undefined) {
      // a Contact address other than the source's is a slice of the message
      if (target.address !== source.remote.address) target.address = detachString(target.address);
      b.target = target;
    }
    if (route.needsFlow && flow.flowId !== undefined)
      b.flowKey = this.#options.flowKey(flow.flowId);
    const userAgent = request.headers.get('User-Agent');
    if (userAgent !== undefined) b.userAgent = this.#userAgent(userAgent);
    if (req.identity !== undefined) b.identity = detachIdentity(req.identity);
    return b;
  }

  /** A copy of the flow; the local endpoint object is shared by every binding of a listening point. */
  #source(flow: Flow): Flow {
    const local = this.#local(flow);
    const remote = { address: flow.remote.address, port: flow.remote.port };
    return flow.flowId === undefined
      ? { protocol: flow.protocol, local, remote }
      : { protocol: flow.protocol, local, remote, flowId: detachString(flow.flowId) };
  }

  #local(flow: Flow): Flow['local'] {
    // the transport hands the same local endpoint object for every message of a listening point
    const last = this.#lastLocal;
    if (
      last !== undefined &&
      last[0] === flow.local &&
      last[1].port === flow.local.port &&
      last[1].address === flow.local.address
    )
      return last[1];
    const localKey = `${flow.local.address}|${flow.local.port}`;
    let local = this.#locals.get(localKey);
    if (local === undefined) {
      local = { address: flow.local.address, port: flow.local.port };
      if (this.#locals.size < MAX_SHARED) this.#locals.set(localKey, local);
    }
    this.#lastLocal = [flow.local, local];
    return local;
  }

  /** One string per distinct User-Agent (a fleet of phones sends the same few). */
  #userAgent(value: string): string {
    const ua = value.length > MAX_USER_AGENT ? value.slice(0, MAX_USER_AGENT) : value;
    let shared = this.#userAgents.get(ua);
    if (shared === undefined) {
      shared = detachString(ua);
      if (this.#userAgents.size < MAX_SHARED) this.#userAgents.set(shared, shared);
    }
    return shared;
  }
}
