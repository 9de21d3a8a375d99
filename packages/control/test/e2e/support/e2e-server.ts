/**
 * `switchboard start` in-process for end-to-end tests: 127.0.0.1, ephemeral ports, a temporary
 * data directory with the demo account, and helpers to provision more users and read CDRs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ListeningPoint } from '@switchboard/sip-stack';
import { CONFIG_FLAGS, loadConfig } from '../../../src/cli/config.js';
import type { EdgeNode } from '../../../src/edge/edge-node.js';
import {
  startSwitchboard,
  type RunningSwitchboard,
} from '../../../src/server/switchboard-server.js';
import type { CdrRow } from '../../../src/store/records-store.js';

export const DOMAIN = 'demo.switchboard.test';

export interface E2eServer {
  server: RunningSwitchboard;
  node: EdgeNode;
  /** SIP ports by transport (only those listening). */
  ports: Partial<Record<ListeningPoint['protocol'], number>>;
  passwords: Record<string, string>;
  accountId: string;
  dataDir: string;
  close(): Promise<void>;
}

export interface E2eServerOptions {
  /** Extra flags (`--sip-tls-cert` ...); flags this build does not know are left out. */
  flags?: Record<string, string>;
  /**
   * Digest algorithms the edge offers, in order (`sip.digest_algorithms`); default MD5 only:
   * SIPp 3.6 answers the first WWW-/Proxy-Authenticate and knows MD5 alone.
   */
  digestAlgorithms?: string;
  /** Nonce lifetime in seconds (`sip.nonce_ttl_sec`); default the server's. */
  nonceTtlSec?: number;
}

/** An even port range below the ephemeral range, different per run. */
function relayRange(): { min: number; max: number } {
  const min = 20000 + 200 * Math.floor(Math.random() * 40);
  return { min, max: min + 199 };
}

export const knownFlag = (flag: string): boolean => CONFIG_FLAGS.includes(flag);

export async function startE2eServer(options: E2eServerOptions = {}): Promise<E2eServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-e2e-'));
  const range = relayRange();
  const flags: Record<string, string> = {
    '--data-dir': dataDir,
    '--host': '127.0.0.1',
    '--port': '0',
    '--log-level': process.env['E2E_LOG'] ?? 'silent',
    '--sip-host': '127.0.0.1',
    '--sip-udp-port': '0',
    '--sip-tcp-port': '0',
    '--sip-ws-port': 'off',
    '--sip-tls-port': 'off',
    '--sip-wss-port': 'off',
    '--media-mode': 'always',
    '--rtp-min': String(range.min),
    '--rtp-max': String(range.max),
    '--sip-digest-algorithms': options.digestAlgorithms ?? 'MD5',
    ...(options.nonceTtlSec === undefined
      ? {}
      : { '--sip-nonce-ttl-sec': String(options.nonceTtlSec) }),
    ...options.flags,
  };
  const known = Object.fromEntries(Object.entries(flags).filter(([f]) => knownFlag(f)));
  const config = loadConfig({ env: {}, flags: known });
  if (!config.ok) throw new Error(config.error.message);
  let printed = '';
  const server = await startSwitchboard(config.value, { print: (s) => (printed += s) });
  const node = server.edge?.node;
  if (node === undefined) {
    await server.stop();
    throw new Error('the SIP edge did not start');
  }
  const passwords: Record<string, string> = {};
  for (const m of printed.matchAll(/user (\d+)\s+password (\S+)/g))
    passwords[m[1] as string] = m[2] as string;
  const ports: E2eServer['ports'] = {};
  for (const lp of node.listeningPoints()) ports[lp.protocol] ??= lp.local.port;
  const domain = await server.store.table('sip_domain').list({ filters: { domain: DOMAIN } });
  const account = domain.ok ? domain.value.items[0]?.['account_id'] : undefined;
  const accountId = typeof account === 'string' ? account : '';
  return {
    server,
    node,
    ports,
    passwords,
    accountId,
    dataDir,
    async close() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A new user of the demo account with one device (auth username = extension = `username`). */
export async function addUser(fx: E2eServer, username: string, password: string): Promise<string> {
  const r = await fx.server.store.importer.importDocument({
    account_id: fx.accountId,
    subscribers: [{ domain: DOMAIN, username, password, extension: username }],
  });
  if (!r.ok) throw new Error(r.error.message);
  return userId(fx, username);
}

export async function userId(fx: E2eServer, username: string): Promise<string> {
  const r = await fx.server.store.table('sip_user').list({ filters: { username } });
  const id = r.ok ? r.value.items[0]?.['id'] : undefined;
  if (typeof id !== 'string') throw new Error(`no user ${username}`);
  return id;
}

export async function updateUser(
  fx: E2eServer,
  username: string,
  patch: Record<string, unknown>,
): Promise<void> {
  const r = await fx.server.store.table('sip_user').update(await userId(fx, username), patch);
  if (!r.ok) throw new Error(r.error.message);
}

/**
 * The CDR of a call once it is closed (the edge ends calls asynchronously after the final
 * response or BYE). Polls for at most `limitMs`; undefined when it never closed.
 */
export async function closedCdr(
  fx: Pick<E2eServer, 'server'>,
  callId: string,
  limitMs = 5000,
): Promise<CdrRow | undefined> {
  let row: CdrRow | undefined;
  for (let waited = 0; waited <= limitMs; waited += 50) {
    row = await fx.server.store.records.cdrByCallId(callId);
    if (row !== undefined && row.disposition !== 'in_progress') return row;
    await new Promise((r) => setTimeout(r, 50));
  }
  return row;
}
