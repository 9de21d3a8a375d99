import t from 'tap';
import type { Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { CTL_ERRORS } from '../../src/errors/ctl-errors.js';
import { createHttpApp } from '../../src/server/http-app.js';
import { buildPbx } from '../support/pbx-fixture.js';
import { openTestStore } from '../support/test-store.js';

async function setup(t: Test) {
  const ts = openTestStore();
  const pbx = await buildPbx(ts.store);
  const app = await createHttpApp({ store: ts.store });
  t.teardown(async () => {
    await app.close();
    await ts.close();
  });
  const admin = (await ts.store.apiKeys.create(pbx.accountId, 'admin', ['*'])).key;
  return { ts, pbx, app, admin };
}

type Injected = {
  statusCode: number;
  json(): Record<string, unknown>;
  body: string;
  headers: Record<string, unknown>;
};

async function call(
  app: FastifyInstance,
  key: string | undefined,
  method: string,
  url: string,
  payload?: Record<string, unknown>,
): Promise<Injected> {
  const headers: Record<string, string> = {};
  if (key !== undefined) headers['authorization'] = `Bearer ${key}`;
  const res = await app.inject({
    method: method as 'GET',
    url,
    headers,
    ...(payload === undefined ? {} : { payload }),
  });
  return {
    statusCode: res.statusCode,
    body: res.body,
    headers: res.headers,
    json: () => res.json<Record<string, unknown>>(),
  };
}

/** Every error body is { code, message } with a registry code and its registry status. */
function isRegistryError(t: Test, res: Injected, code: string, message?: RegExp): void {
  const body = res.json();
  t.same(Object.keys(body).sort(), ['code', 'message']);
  t.equal(body['code'], code);
  t.equal(
    res.statusCode,
    CTL_ERRORS[code as keyof typeof CTL_ERRORS],
    `${code} has its registry status`,
  );
  if (message !== undefined) t.match(body['message'], message);
}

t.test('api: requests without a valid API key get 401', async (t) => {
  const { app } = await setup(t);
  isRegistryError(
    t,
    await call(app, undefined, 'GET', '/v1/users'),
    'CTL_ERR_UNAUTHORIZED',
    /Bearer sk_/,
  );
  isRegistryError(t, await call(app, 'sk_forged', 'GET', '/v1/users'), 'CTL_ERR_UNAUTHORIZED');
});

t.test('api: a key without the route scope gets 403 naming the scope', async (t) => {
  const { app, ts, pbx } = await setup(t);
  const usersOnly = (await ts.store.apiKeys.create(pbx.accountId, 'u', ['users'])).key;
  isRegistryError(
    t,
    await call(app, usersOnly, 'GET', '/v1/dids'),
    'CTL_ERR_MISSING_SCOPE',
    /'numbers' scope/,
  );
  isRegistryError(
    t,
    await call(app, usersOnly, 'GET', '/v1/calls'),
    'CTL_ERR_MISSING_SCOPE',
    /'cdr' scope/,
  );
  t.equal((await call(app, usersOnly, 'GET', '/v1/users')).statusCode, 200);
  const mint = await call(app, usersOnly, 'GET', '/v1/api_keys');
  isRegistryError(t, mint, 'CTL_ERR_MISSING_SCOPE', /'admin'/);
  const adminOnly = (await ts.store.apiKeys.create(pbx.accountId, 'a', ['admin'])).key;
  isRegistryError(
    t,
    await call(app, adminOnly, 'POST', '/v1/api_keys', { name: 'x', scopes: '*' }),
    'CTL_ERR_MISSING_SCOPE',
    /cannot grant the '\*' scope/,
  );
});

t.test('api: a bad body is a 400 naming the field', async (t) => {
  const { app, admin, pbx } = await setup(t);
  const base = { domain_id: pbx.domainId, username: 'erin' };
  isRegistryError(
    t,
    await call(app, admin, 'POST', '/v1/users', { ...base, ring_timeout_sec: 9000 }),
    'CTL_ERR_VALIDATION',
    /^body\.ring_timeout_sec must be <= 600$/,
  );
  isRegistryError(
    t,
    await call(app, admin, 'POST', '/v1/users', { ...base, shoe_size: 9 }),
    'CTL_ERR_VALIDATION',
    /^body\.shoe_size is not a known field$/,
  );
  isRegistryError(
    t,
    await call(app, admin, 'POST', '/v1/users', { domain_id: pbx.domainId }),
    'CTL_ERR_VALIDATION',
    /^body\.username is required$/,
  );
  isRegistryError(
    t,
    await call(app, admin, 'POST', '/v1/users', { ...base, ring_strategy: 'loud' }),
    'CTL_ERR_VALIDATION',
    /ring_strategy must be one of simultaneous/,
  );
  isRegistryError(
    t,
    await call(app, admin, 'POST', '/v1/ring_groups', { name: 'g', members: [{ delay_sec: 1 }] }),
    'CTL_ERR_VALIDATION',
    /^body\.members\[0\]\.user_id is required$/,
  );
  isRegistryError(
    t,
    await call(app, admin, 'PATCH', `/v1/users/${pbx.users.bob}`, {}),
    'CTL_ERR_VALIDATION',
    /body/,
  );
  isRegistryError(
    t,
    await call(app, admin, 'GET', '/v1/users?limit=abc'),
    'CTL_ERR_VALIDATION',
    /querystring\.limit/,
  );
  isRegistryError(
    t,
    await call(app, admin, 'GET', '/v1/users/not-an-id'),
    'CTL_ERR_VALIDATION',
    /params\.id/,
  );
  isRegistryError(
    t,
    await call(app, admin, 'POST', '/v1/extensions', {
      number: '9',
      dest_kind: 'user',
      dest_id: 'us_01JAAAAAAAAAAAAAAAAAAAAAAA',
    }),
    'CTL_ERR_REFERENCE',
    /dest_id/,
  );
  const raw = await app.inject({
    method: 'POST',
    url: '/v1/users',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    payload: '{"user',
  });
  isRegistryError(
    t,
    {
      statusCode: raw.statusCode,
      body: raw.body,
      headers: raw.headers,
      json: () => raw.json<Record<string, unknown>>(),
    },
    'CTL_ERR_BAD_REQUEST',
    /not valid JSON/,
  );
  isRegistryError(t, await call(app, admin, 'GET', '/v1/nothing-here'), 'CTL_ERR_NOT_FOUND');
});

t.test(
  'api: create, read, update and delete a user and its device; passwords become HA1s',
  async (t) => {
    const { app, admin, pbx, ts } = await setup(t);
    const created = await call(app, admin, 'POST', '/v1/users', {
      domain_id: pbx.domainId,
      username: 'erin',
      dnd: true,
    });
    t.equal(created.statusCode, 201);
    const user = created.json();
    t.match(user, {
      id: /^us_/,
      account_id: pbx.accountId,
      username: 'erin',
      dnd: true,
      ring_strategy: 'simultaneous',
      status: 'active',
    });
    const dev = await call(app, admin, 'POST', '/v1/devices', {
      user_id: user['id'],
      auth_username: 'erin',
      password: 'erin-secret-1',
    });
    t.equal(dev.statusCode, 201);
    t.match(dev.json(), { realm: pbx.domain, ring_on_fork: true });
    t.notOk(
      ['password', 'ha1', 'ha1b', 'ha1_sha256'].some((k) => k in dev.json()),
      'no password or digest in the answer',
    );
    t.notOk(
      JSON.stringify(ts.store.db.prepare('SELECT * FROM sip_device').all()).includes(
        'erin-secret-1',
      ),
    );
    const patched = await call(app, admin, 'PATCH', `/v1/users/${String(user['id'])}`, {
      dnd: false,
      display_name: 'Erin',
    });
    t.match(patched.json(), { dnd: false, display_name: 'Erin' });
    t.match((await call(app, admin, 'GET', `/v1/users/${String(user['id'])}`)).json(), {
      display_name: 'Erin',
    });
    t.match((await call(app, admin, 'DELETE', `/v1/devices/${String(dev.json()['id'])}`)).json(), {
      deleted: true,
    });
    t.match((await call(app, admin, 'DELETE', `/v1/users/${String(user['id'])}`)).json(), {
      deleted: true,
    });
    isRegistryError(
      t,
      await call(app, admin, 'GET', `/v1/users/${String(user['id'])}`),
      'CTL_ERR_NOT_FOUND',
    );
  },
);

t.test('api: lists paginate with a cursor and filter on columns', async (t) => {
  const { app, admin, pbx } = await setup(t);
  for (let i = 0; i < 5; i++) {
    const r = await call(app, admin, 'POST', '/v1/dids', {
      number: `4420300001${i}0`,
      dest_kind: 'user',
      dest_id: pbx.users.bob,
      status: i === 0 ? 'disabled' : 'active',
    });
    t.equal(r.statusCode, 201);
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Record<string, unknown> = (
      await call(app, admin, 'GET', `/v1/dids?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`)
    ).json();
    for (const item of page['items'] as { id: string }[]) seen.push(item.id);
    cursor = page['next_cursor'] as string | null;
  } while (cursor !== null);
  t.equal(seen.length, 5);
  t.equal(new Set(seen).size, 5, 'no row twice');
  t.same([...seen].sort(), seen, 'ordered by id');
  const disabled = (await call(app, admin, 'GET', '/v1/dids?status=disabled')).json();
  t.equal((disabled['items'] as unknown[]).length, 1);
  isRegistryError(
    t,
    await call(app, admin, 'GET', '/v1/dids?colour=red'),
    'CTL_ERR_VALIDATION',
    /colour/,
  );
});

t.test('api: a key sees only its account and the accounts below it', async (t) => {
  const { app, admin, pbx, ts } = await setup(t);
  const child = await call(app, admin, 'POST', '/v1/accounts', { name: 'Child Ltd' });
  t.match(child.json(), { parent_id: pbx.accountId });
  const childId = String(child.json()['id']);
  const other = await buildPbx(ts.store, 'other.test');
  const otherKey = (await ts.store.apiKeys.create(other.accountId, 'o', ['*'])).key;
  isRegistryError(
    t,
    await call(app, otherKey, 'GET', `/v1/users/${pbx.users.bob}`),
    'CTL_ERR_NOT_FOUND',
  );
  isRegistryError(
    t,
    await call(app, otherKey, 'POST', '/v1/domains', {
      account_id: pbx.accountId,
      domain: 'steal.test',
    }),
    'CTL_ERR_FORBIDDEN',
  );
  t.equal(
    (await call(app, admin, 'POST', '/v1/domains', { account_id: childId, domain: 'child.test' }))
      .statusCode,
    201,
    'a reseller provisions its customer',
  );
  const mine = (await call(app, otherKey, 'GET', '/v1/users')).json();
  t.same(
    (mine['items'] as { account_id: string }[])
      .map((u) => u.account_id)
      .filter((a) => a !== other.accountId),
    [],
  );
});

t.test('api: API keys are shown once and stored hashed', async (t) => {
  const { app, admin, ts } = await setup(t);
  const res = await call(app, admin, 'POST', '/v1/api_keys', { name: 'ci', scopes: 'numbers cdr' });
  t.equal(res.statusCode, 201);
  const key = String(res.json()['key']);
  t.match(key, /^sk_/);
  t.notOk('key_hash' in res.json());
  t.notOk(JSON.stringify(ts.store.db.prepare('SELECT * FROM api_key').all()).includes(key));
  t.equal((await call(app, key, 'GET', '/v1/dids')).statusCode, 200);
  t.notOk(
    'key' in (await call(app, admin, 'GET', `/v1/api_keys/${String(res.json()['id'])}`)).json(),
    'never shown again',
  );
});

t.test('api: trunk passwords, PINs and webhook secrets are encrypted references', async (t) => {
  const { app, admin, ts } = await setup(t);
  const tr = (
    await call(app, admin, 'POST', '/v1/trunks', {
      name: 'x',
      proxy_host: 'sip.x.test',
      auth_username: 'u',
      auth_password: 'trunk-pass-9',
    })
  ).json();
  t.match(tr['auth_secret_ref'], /^sec_/);
  t.equal(await ts.store.secrets.get(String(tr['auth_secret_ref'])), 'trunk-pass-9');
  const wh = (
    await call(app, admin, 'POST', '/v1/webhooks', { url: 'https://hooks.example.com/x' })
  ).json();
  t.match(wh['secret'], /^whsec_/, 'a generated signing secret is shown once');
  const all =
    JSON.stringify(ts.store.db.prepare('SELECT * FROM secret').all()) +
    JSON.stringify(ts.store.db.prepare('SELECT * FROM sip_trunk').all());
  t.notOk(
    all.includes('trunk-pass-9') || all.includes(String(wh['secret'])),
    'no secret in clear in the database',
  );
});

t.test('api: the OpenAPI document lists every route with its scope and schemas', async (t) => {
  const { app } = await setup(t);
  const res = await call(app, undefined, 'GET', '/v1/openapi.json');
  t.equal(res.statusCode, 200);
  const doc = res.json() as {
    openapi: string;
    paths: Record<string, Record<string, Record<string, unknown>>>;
  };
  t.equal(doc.openapi, '3.0.3');
  for (const path of [
    '/v1/users',
    '/v1/users/{id}',
    '/v1/dids',
    '/v1/ring_groups',
    '/v1/outbound_routes',
    '/v1/calls',
    '/v1/api_keys',
  ])
    t.ok(doc.paths[path], path);
  t.equal(doc.paths['/v1/dids']?.['post']?.['x-required-scope'], 'numbers');
  t.match(doc.paths['/v1/devices']?.['post']?.['requestBody'], {
    content: { 'application/json': { schema: { properties: { password: { writeOnly: true } } } } },
  });
});
