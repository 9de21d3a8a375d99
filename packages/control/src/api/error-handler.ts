import type { FastifyError, FastifyInstance } from 'fastify';
import { CtlError, isCtlErrorCode } from '../errors/ctl-errors.js';
import type { CtlErrorBody, CtlErrorCode } from '../errors/ctl-errors.js';

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** `/members/0/user_id` → `members[0].user_id`. */
function fieldPath(instancePath: string | undefined): string {
  if (instancePath === undefined || instancePath === '') return '';
  return instancePath
    .slice(1)
    .split('/')
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

/** A schema failure as one sentence naming the field: `body.ring_timeout_sec must be <= 600`. */
export function describeValidation(
  context: string,
  issue: AjvIssue,
): { field: string; message: string } {
  let field = fieldPath(issue.instancePath);
  const params = issue.params ?? {};
  let text = issue.message ?? 'is invalid';
  if (issue.keyword === 'required' && typeof params['missingProperty'] === 'string') {
    field = field === '' ? params['missingProperty'] : `${field}.${params['missingProperty']}`;
    text = 'is required';
  } else if (
    issue.keyword === 'additionalProperties' &&
    typeof params['additionalProperty'] === 'string'
  ) {
    field =
      field === '' ? params['additionalProperty'] : `${field}.${params['additionalProperty']}`;
    text = 'is not a known field';
  } else if (issue.keyword === 'enum' && Array.isArray(params['allowedValues'])) {
    text = `must be one of ${(params['allowedValues'] as unknown[]).join(', ')}`;
  } else if (issue.keyword === 'pattern') {
    text = 'has an invalid format';
  }
  const named = field === '' ? context : `${context}.${field}`;
  return { field: named, message: `${named} ${text}` };
}

function send(
  reply: { code(n: number): { send(b: unknown): unknown } },
  code: CtlErrorCode,
  message: string,
): unknown {
  const body: CtlErrorBody = { code, message };
  return reply.code(new CtlError(code, message).status).send(body);
}

/** Every error leaves as `{ code, message }` with a stable CTL_ERR_* code and its registry status. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError & { validationContext?: string }, request, reply) => {
    if (error instanceof CtlError) return send(reply, error.code, error.message);
    if (error.validation !== undefined) {
      const first = error.validation[0] as AjvIssue | undefined;
      const d = describeValidation(error.validationContext ?? 'body', first ?? {});
      return send(reply, 'CTL_ERR_VALIDATION', d.message);
    }
    if (error.statusCode === 413)
      return send(reply, 'CTL_ERR_TOO_LARGE', 'request body is too large');
    if (error.statusCode === 415)
      return send(reply, 'CTL_ERR_UNSUPPORTED_MEDIA', 'send application/json');
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return send(
        reply,
        'CTL_ERR_BAD_REQUEST',
        error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
          ? 'body must not be empty'
          : 'body is not valid JSON',
      );
    }
    request.log.error({ err: error }, 'unhandled error');
    const code = isCtlErrorCode((error as { code?: unknown }).code)
      ? (error as { code: CtlErrorCode }).code
      : 'CTL_ERR_INTERNAL';
    return send(reply, code, 'internal error');
  });
  app.setNotFoundHandler((request, reply) =>
    send(
      reply,
      'CTL_ERR_NOT_FOUND',
      `no route ${request.method} ${request.url.split('?')[0] ?? ''}`,
    ),
  );
}
