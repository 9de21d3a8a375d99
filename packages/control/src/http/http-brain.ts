import { Agent, request } from 'node:http';
import type {
  AdmitDecision,
  AdmitRequest,
  AuthDecision,
  AuthRequest,
  Brain,
  CacStatus,
  PresenceAck,
  PresenceEvent,
  ReleaseRequest,
  ReleaseResult,
  RouteRequest,
} from '../brain/brain.js';
import { reject } from '../brain/directive.js';
import type { RouteDecision } from '../brain/directive.js';
import { CtlError, isCtlErrorCode } from '../errors/ctl-errors.js';
import type { CtlErrorCode } from '../errors/ctl-errors.js';
import { NODE_TOKEN_HEADER } from './brain-routes.js';

export interface HttpBrainOptions {
  /** `http://host:port` of the control-plane API. */
  baseUrl: string;
  nodeToken: string;
  /** Concurrent keep-alive connections (default 16). */
  maxSockets?: number;
  timeoutMs?: number;
}

interface HttpResult {
  status: number;
  body: unknown;
}

/**
 * The brain over HTTP: the same `Brain` interface, carried to a remote control plane. A request the
 * server refuses as malformed comes back as the same refusal value the in-process brain returns;
 * a transport failure throws CtlError CTL_ERR_UNAVAILABLE (the edge answers 503).
 */
export class HttpBrain implements Brain {
  #url: URL;
  #token: string;
  #agent: Agent;
  #timeoutMs: number;

  constructor(options: HttpBrainOptions) {
    this.#url = new URL(options.baseUrl);
    this.#token = options.nodeToken;
    this.#agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 16 });
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  close(): void {
    this.#agent.destroy();
  }

  #call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<HttpResult> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { [NODE_TOKEN_HEADER]: this.#token };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, rejectP) => {
      const req = request(
        {
          agent: this.#agent,
          hostname: this.#url.hostname,
          port: this.#url.port,
          path,
          method,
          headers,
          timeout: this.#timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve({
                status: res.statusCode ?? 0,
                body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
              });
            } catch {
              rejectP(
                new CtlError(
                  'CTL_ERR_UNAVAILABLE',
                  `control plane sent a non-JSON answer to ${path}`,
                ),
              );
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) =>
        rejectP(new CtlError('CTL_ERR_UNAVAILABLE', `control plane unreachable: ${err.message}`)),
      );
      req.end(payload);
    });
  }

  /** A non-2xx answer as `{ code, message }`; throws for anything but a client error. */
  #error(r: HttpResult, path: string): { code: CtlErrorCode; message: string } {
    const b = r.body as { code?: unknown; message?: unknown };
    const code = isCtlErrorCode(b?.code) ? b.code : 'CTL_ERR_INTERNAL';
    const message = typeof b?.message === 'string' ? b.message : `HTTP ${r.status}`;
    if (r.status === 400) return { code, message };
    throw new CtlError(
      r.status === 401 ? 'CTL_ERR_UNAUTHORIZED' : 'CTL_ERR_UNAVAILABLE',
      `${path}: ${message}`,
    );
  }

  async authenticate(req: AuthRequest): Promise<AuthDecision> {
    const r = await this.#call('POST', '/auth', req);
    if (r.status === 200) return r.body as AuthDecision;
    const e = this.#error(r, '/auth');
    return { ok: false, code: e.code, reason: e.message, status: 400 };
  }

  async route(req: RouteRequest): Promise<RouteDecision> {
    const r = await this.#call('POST', '/route', req);
    if (r.status === 200) return r.body as RouteDecision;
    this.#error(r, '/route');
    return {
      direction: null,
      accountId: null,
      target: null,
      directive: reject(400, 'Bad Request', 'CTL_ERR_VALIDATION'),
    };
  }

  async presenceEvent(event: PresenceEvent): Promise<PresenceAck> {
    const r = await this.#call('POST', '/presence/event', event);
    if (r.status === 200) return r.body as PresenceAck;
    this.#error(r, '/presence/event');
    return { ok: false, known: false };
  }

  async admit(req: AdmitRequest): Promise<AdmitDecision> {
    const r = await this.#call('POST', '/admit', req);
    if (r.status === 200) return r.body as AdmitDecision;
    const e = this.#error(r, '/admit');
    return {
      ok: false,
      code: e.code,
      reason: e.message,
      limit: e.message.split(' ')[0] ?? 'body',
      status: 400,
    };
  }

  async release(req: ReleaseRequest): Promise<ReleaseResult> {
    const r = await this.#call('POST', '/release', req);
    if (r.status === 200) return r.body as ReleaseResult;
    this.#error(r, '/release');
    return { ok: true, released: false, counters: [] };
  }

  async cacStatus(accountId?: string): Promise<CacStatus> {
    const path =
      accountId === undefined ? '/cac' : `/cac?account_id=${encodeURIComponent(accountId)}`;
    const r = await this.#call('GET', path);
    if (r.status === 200) return r.body as CacStatus;
    this.#error(r, '/cac');
    return { accounts: [] };
  }

  async cacReset(accountId?: string): Promise<{ ok: true; cleared: number }> {
    const r = await this.#call(
      'POST',
      '/cac/reset',
      accountId === undefined ? {} : { account_id: accountId },
    );
    if (r.status === 200) return r.body as { ok: true; cleared: number };
    this.#error(r, '/cac/reset');
    return { ok: true, cleared: 0 };
  }
}
