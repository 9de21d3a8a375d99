import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CtlError } from '../errors/ctl-errors.js';
import type { ConfigStore } from '../store/config-store.js';
import type { CdrRow } from '../store/records-store.js';
import { actingAccount, principalOf, requireScope } from './api-auth.js';
import type { RouteRegistry } from './route-registry.js';

const CSV_COLUMNS: readonly (keyof CdrRow)[] = [
  'id',
  'account_id',
  'call_id',
  'direction',
  'from_number',
  'to_number',
  'user_id',
  'did_id',
  'trunk_id',
  'started_at',
  'answered_at',
  'ended_at',
  'billsec',
  'disposition',
  'hangup_cause',
  'cost_micros',
  'rate_id',
];

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  // RFC 4180 §2: quote fields holding commas, quotes or line breaks; double inner quotes
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function toCsv(rows: readonly CdrRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) lines.push(CSV_COLUMNS.map((c) => csvCell(r[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

const EPOCH = { type: 'string', pattern: '^[0-9]{1,12}$', description: 'epoch seconds' };

/** GET /v1/calls (since/until/limit/cursor, JSON or CSV) and a call's event trace. */
export function registerCallRoutes(
  app: FastifyInstance,
  store: ConfigStore,
  registry: RouteRegistry,
): void {
  const guard = requireScope(store);
  registry.add(
    app,
    {
      method: 'GET',
      url: '/calls',
      tag: 'calls',
      scope: 'cdr',
      summary: 'List call detail records, newest first',
      produces: ['application/json', 'text/csv'],
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            since: EPOCH,
            until: EPOCH,
            limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
            cursor: { type: 'string', maxLength: 64 },
            account_id: { type: 'string', maxLength: 64 },
            format: { type: 'string', enum: ['json', 'csv'] },
          },
        },
      },
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const p = principalOf(request);
        const q = request.query as Record<string, string | undefined>;
        const accountIds =
          q['account_id'] === undefined ? p.accounts : [actingAccount(p, q['account_id'])];
        const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
        const page = await store.records.listCalls({
          accountIds,
          since: num(q['since']),
          until: num(q['until']),
          limit: num(q['limit']),
          cursor: q['cursor'],
        });
        if (!page.ok) throw page.error;
        const wantsCsv =
          q['format'] === 'csv' ||
          (q['format'] === undefined && (request.headers.accept ?? '').includes('text/csv'));
        if (!wantsCsv) return page.value;
        if (page.value.next_cursor !== null) reply.header('x-next-cursor', page.value.next_cursor);
        return reply.type('text/csv; charset=utf-8').send(toCsv(page.value.items));
      },
    },
    guard,
  );
  registry.add(
    app,
    {
      method: 'GET',
      url: '/calls/:call_id/events',
      tag: 'calls',
      scope: 'cdr',
      summary: 'The event trace of one call',
      schema: {
        params: {
          type: 'object',
          required: ['call_id'],
          properties: { call_id: { type: 'string', maxLength: 256 } },
        },
      },
      handler: async (request: FastifyRequest) => {
        const { call_id } = request.params as { call_id: string };
        const cdr = await store.records.cdrByCallId(call_id);
        if (cdr === undefined || !principalOf(request).accounts.includes(cdr.account_id))
          throw new CtlError('CTL_ERR_NOT_FOUND', `call ${call_id} not found`);
        return { call: cdr, events: await store.records.events(call_id) };
      },
    },
    guard,
  );
  registry.add(
    app,
    {
      method: 'POST',
      url: '/accounts/:id/wallet/credit',
      tag: 'accounts',
      scope: 'admin',
      summary: 'Add money to an account wallet (micro-units)',
      schema: {
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', maxLength: 64 } },
        },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['amount_micros'],
          properties: {
            amount_micros: {
              type: 'integer',
              minimum: -1_000_000_000_000,
              maximum: 1_000_000_000_000,
            },
            reason: { type: 'string', maxLength: 200 },
          },
        },
      },
      handler: async (request: FastifyRequest) => {
        const { id } = request.params as { id: string };
        const account = actingAccount(principalOf(request), id);
        const body = request.body as { amount_micros: number; reason?: string };
        const balance = await store.records.adjustWallet(
          account,
          body.amount_micros,
          body.reason ?? 'credit',
        );
        return { account_id: account, balance_micros: balance };
      },
    },
    guard,
  );
}
