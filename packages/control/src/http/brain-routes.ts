import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {
  AdmitRequest,
  AuthRequest,
  Brain,
  PresenceEvent,
  ReleaseRequest,
  RouteRequest,
} from '../brain/brain.js';
import { CtlError } from '../errors/ctl-errors.js';

/** Header carrying the node token that gates the control-plane API. */
export const NODE_TOKEN_HEADER = 'x-switchboard-node-token';

const party = {
  type: 'object',
  required: ['user', 'host'],
  properties: {
    user: { type: 'string' },
    host: { type: 'string' },
    displayName: { type: 'string' },
  },
};

/** Request schemas of the control-plane API: the shape only; the brain checks meaning. */
export const BRAIN_SCHEMAS = {
  auth: {
    type: 'object',
    required: ['method', 'username', 'realm', 'nonce', 'uri', 'response'],
    properties: {
      method: { type: 'string' },
      username: { type: 'string' },
      realm: { type: 'string' },
      nonce: { type: 'string' },
      uri: { type: 'string' },
      response: { type: 'string' },
      algorithm: { type: 'string' },
      cnonce: { type: 'string' },
      nc: { type: 'string' },
      qop: { type: 'string' },
      bodyHash: { type: 'string' },
    },
  },
  route: {
    type: 'object',
    required: ['callId', 'to', 'from'],
    properties: {
      callId: { type: 'string' },
      to: party,
      from: party,
      caller: {
        type: 'object',
        required: ['accountId', 'userId'],
        properties: {
          accountId: { type: 'string' },
          userId: { type: 'string' },
          deviceId: { type: 'string' },
        },
      },
      trunkId: { type: 'string' },
      privacy: { type: 'boolean' },
    },
  },
  presence: {
    type: 'object',
    required: ['type'],
    properties: {
      type: {
        type: 'string',
        enum: ['registered', 'unregistered', 'reachable', 'unreachable', 'dialog'],
      },
    },
  },
  admit: {
    type: 'object',
    required: ['callId', 'accountId', 'direction'],
    properties: {
      callId: { type: 'string' },
      accountId: { type: 'string' },
      direction: { type: 'string' },
      userIds: { type: 'array', items: { type: 'string' }, maxItems: 16 },
      didId: { type: 'string' },
      trunkId: { type: 'string' },
      ttlSec: { type: 'integer' },
    },
  },
  release: {
    type: 'object',
    required: ['callId'],
    properties: { callId: { type: 'string' }, end: { type: 'object' } },
  },
} as const;

function tokenMatches(expected: Buffer, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const g = Buffer.from(given);
  return g.length === expected.length && timingSafeEqual(g, expected);
}

export interface BrainRoutesOptions {
  brain: Brain;
  nodeToken: string;
}

/**
 * The decision interface over HTTP (DESIGN.md: POST /auth, /route, /presence/event, GET /cac,
 * POST /cac/reset, plus /admit and /release), gated by the node token.
 */
export function registerBrainRoutes(app: FastifyInstance, options: BrainRoutesOptions): void {
  const expected = Buffer.from(options.nodeToken);
  const { brain } = options;
  const gate = async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (!tokenMatches(expected, request.headers[NODE_TOKEN_HEADER])) {
      throw new CtlError('CTL_ERR_UNAUTHORIZED', `missing or wrong ${NODE_TOKEN_HEADER}`);
    }
  };
  const post = <B>(url: string, schema: object, handler: (body: B) => Promise<unknown>) =>
    app.post(url, { schema: { body: schema }, onRequest: gate }, (request) =>
      handler(request.body as B),
    );
  post<AuthRequest>('/auth', BRAIN_SCHEMAS.auth, (b) => brain.authenticate(b));
  post<RouteRequest>('/route', BRAIN_SCHEMAS.route, (b) => brain.route(b));
  post<PresenceEvent>('/presence/event', BRAIN_SCHEMAS.presence, (b) => brain.presenceEvent(b));
  post<AdmitRequest>('/admit', BRAIN_SCHEMAS.admit, (b) => brain.admit(b));
  post<ReleaseRequest>('/release', BRAIN_SCHEMAS.release, (b) => brain.release(b));
  app.get('/cac', { onRequest: gate }, (request) => {
    const q = request.query as { account_id?: string };
    return brain.cacStatus(q.account_id);
  });
  post<{ account_id?: string }>(
    '/cac/reset',
    { type: 'object', properties: { account_id: { type: 'string' } } },
    (b) => brain.cacReset(b.account_id),
  );
}
