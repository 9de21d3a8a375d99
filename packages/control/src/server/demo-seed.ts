import { randomBytes } from 'node:crypto';
import type { ConfigStore } from '../store/config-store.js';

export const DEMO_DOMAIN = 'demo.switchboard.test';

export interface DemoCredentials {
  accountId: string;
  domain: string;
  users: { username: string; extension: string; password: string }[];
  apiKey: string;
}

function password(): string {
  return randomBytes(9).toString('base64url');
}

/**
 * First start with an empty database: a demo account with two users (extensions 1001, 1002) and an
 * admin API key, so a newcomer can register two softphones and call between them at once.
 */
export async function seedDemo(store: ConfigStore): Promise<DemoCredentials> {
  const users = [
    { username: '1001', extension: '1001', password: password() },
    { username: '1002', extension: '1002', password: password() },
  ];
  const account = await store.table('account').create({ name: 'Demo', timezone: 'UTC' });
  if (!account.ok) throw account.error;
  const accountId = String(account.value.row['id']);
  const r = await store.importer.importDocument({
    account_id: accountId,
    subscribers: users.map((u) => ({
      domain: DEMO_DOMAIN,
      username: u.username,
      password: u.password,
      extension: u.extension,
      display_name: `Demo ${u.username}`,
    })),
  });
  if (!r.ok) throw r.error;
  const key = await store.apiKeys.create(accountId, 'demo admin', ['*']);
  return { accountId, domain: DEMO_DOMAIN, users, apiKey: key.key };
}

export function describeDemo(d: DemoCredentials): string {
  const lines = [
    'First start: created a demo account. Register two softphones with:',
    `  SIP domain / realm: ${d.domain}`,
    ...d.users.map(
      (u) => `  user ${u.username}  password ${u.password}  (extension ${u.extension})`,
    ),
    `  API key (all scopes, shown once): ${d.apiKey}`,
  ];
  return `${lines.join('\n')}\n`;
}
