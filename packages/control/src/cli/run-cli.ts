import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { migrate, schemaVersion } from '../store/migrations.js';
import { loadMasterKey } from '../store/master-key.js';
import { openDatabase } from '../store/sqlite/open-database.js';
import { SqliteConfigStore } from '../store/sqlite/sqlite-config-store.js';
import { runSwitchboardCluster, type RunningCluster } from '../cluster/cluster-primary.js';
import { startEdgeNodeServer } from '../server/edge-node-server.js';
import type { RunningEdgeNode } from '../server/edge-node-server.js';
import { startSwitchboard } from '../server/switchboard-server.js';
import type { RunningNode, RunningSwitchboard } from '../server/switchboard-server.js';
import { CONFIG_FLAGS, loadConfig } from './config.js';
import type { SwitchboardConfig } from './config.js';
import { parseCsv } from './csv.js';

export const USAGE = `Usage: switchboard <command> [options]

Commands:
  start                 start the server: HTTP API on port 8080, SIP on UDP/TCP 5060 and WS 5066
                        (TLS 5061 and WSS 7443 with a certificate); SIGTERM drains calls, then stops
  migrate               create or upgrade the database in the data directory
  import <file>         import a provisioning file: .json (any tables) or .csv (subscribers:
                        domain,username,password[,display_name,caller_id_number,extension,account_id])
Options:
  --config <file>       YAML or JSON config file (also SWITCHBOARD_CONFIG)
  --data-dir <dir>      data directory (default ./data)
  --host <addr>         HTTP listen address      --port <n>   HTTP port (default 8080)
  --node-token <token>  token for the control-plane API
  --brain <url>         run an edge node asking the control plane at http://host:port (needs
                        --node-token); serves only SIP, the relay, /metrics and /health
  --log-level <level>   fatal, error, warn, info, debug, trace, silent
  --workers <n>         SIP worker processes (default 1)
  --drain-timeout <s>   graceful stop: seconds to wait for calls to end (default 30)
  --sip on|off          the SIP edge (default on)   --sip-host <addr>  SIP listen address (0.0.0.0)
  --sip-udp-port <n|off>  --sip-tcp-port <n|off>  (5060)   --sip-ws-port <n|off>  (5066)
  --sip-tls-port <n|off>  (5061)   --sip-wss-port <n|off>  (7443)
  --sip-tls-cert <pem> --sip-tls-key <pem>  certificate for TLS and WSS   --sip-tls-ca <pem>  mutual TLS
  --sip-advertised-host <host>  host for Record-Route behind a wildcard address
  --sip-relay-foreign-domains on|off  relay requests for domains that are not ours (default off)
  --sip-digest-algorithms <list>  challenges offered, in order (MD5,SHA-256)
  --sip-nonce-ttl-sec <n>  digest nonce lifetime (300)
  --sip-outbound b2bua|proxy  how calls to trunks run (b2bua)
  --sip-transfers-from-trunks on|off  honour REFER from trunks on B2BUA calls (default off)
  --sip-trunk-probe-interval-sec <n>  OPTIONS probes of trunk gateways (default 30; 0 = none)
  --location-redis <url>  keep registrations in Redis (redis://host:port) instead of memory
  --media-mode <m>      anchor media on the relay: always, nat, never (default always)
  --media-address <addr>  relay address   --media-advertised <addr>  address put in SDP
  --rtp-min <n> --rtp-max <n>  relay port range (30000-39999)   --media-kernel on|off
  --account <id>        import: account for rows that name none
`;

/** Every config flag takes a value (`--port 0`, `--sip off`). */
const CONFIG_FLAG_OPTIONS = Object.fromEntries(
  CONFIG_FLAGS.map((f) => [f.slice(2), { type: 'string' as const }]),
) as Record<string, { type: 'string' }>;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

export interface CliResult {
  code: number;
  /** Set by `start`: the running server (the caller waits for a signal, then stops it). */
  server?: RunningSwitchboard;
  /** Set by `start --brain URL`: the running edge node. */
  edgeNode?: RunningEdgeNode;
  /** Set by `start --workers N` (N > 1): the primary and its SIP workers. */
  cluster?: RunningCluster;
}

/** The node `start` left running, whichever kind. */
export function runningNode(result: CliResult): RunningNode | undefined {
  return result.server ?? result.edgeNode;
}

function openStore(config: SwitchboardConfig): SqliteConfigStore {
  const key = loadMasterKey(config.dataDir);
  if (!key.ok) throw key.error;
  return new SqliteConfigStore({
    db: openDatabase({ dataDir: config.dataDir }),
    masterKey: key.value,
  });
}

function readDocument(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.csv')) {
    const csv = parseCsv(text);
    if (!csv.ok) throw new Error(`${file}:${csv.line}: ${csv.reason}`);
    return { subscribers: csv.rows };
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${(err as Error).message}`);
  }
}

async function runImport(
  config: SwitchboardConfig,
  file: string | undefined,
  account: string | undefined,
  io: CliIo,
): Promise<number> {
  if (file === undefined) {
    io.err('switchboard import: name the file to import, e.g. switchboard import users.csv\n');
    return 2;
  }
  const doc = readDocument(file);
  const store = openStore(config);
  try {
    const options = {
      onProgress: (done: number, total: number) => io.err(`  ${done}/${total} subscribers\n`),
      ...(account === undefined ? {} : { accountId: account }),
    };
    const r = await store.importer.importDocument(doc, options);
    if (!r.ok) {
      io.err(
        `${file}: ${r.error.message}\nNothing was imported. Fix the row and run the import again.\n`,
      );
      return 1;
    }
    const rows = Object.entries(r.value.rows).map(([k, n]) => `${n} ${k}`);
    io.out(
      `Imported ${r.value.subscribers} subscribers (${r.value.domains} new domains)${rows.length > 0 ? `, ${rows.join(', ')}` : ''} in ${r.value.ms} ms.\n`,
    );
    return 0;
  } finally {
    store.close();
  }
}

async function runStart(config: SwitchboardConfig, io: CliIo): Promise<CliResult> {
  const logger = pino({ level: config.logLevel });
  const http = (port: number): string => `http://${config.http.host}:${port}`;
  let result: CliResult;
  if (config.workers > 1 && config.brain === undefined && config.sip.enabled) {
    const cluster = await runSwitchboardCluster(config, { logger, print: io.out });
    io.out(
      `Switchboard control plane listening on ${http(cluster.server.httpPort)} (data in ${config.dataDir}).\n`,
    );
    result = { code: 0, cluster, server: cluster.server };
  } else if (config.brain === undefined) {
    const server = await startSwitchboard(config, { logger, print: io.out });
    io.out(
      `Switchboard control plane listening on ${http(server.httpPort)} (data in ${config.dataDir}).\n`,
    );
    result = { code: 0, server };
  } else {
    const edgeNode = await startEdgeNodeServer(config, { logger });
    io.out(
      `Switchboard edge node asking the control plane at ${config.brain}; metrics and health on ${http(edgeNode.httpPort)}.\n`,
    );
    result = { code: 0, edgeNode };
  }
  for (const line of runningNode(result)?.edge?.describe() ?? []) io.out(`${line}\n`);
  return result;
}

/** The `switchboard` command; returns an exit code (and the server for `start`). Never exits the process. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<CliResult> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        ...CONFIG_FLAG_OPTIONS,
        account: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return { code: 2 };
  }
  const [command, file] = parsed.positionals;
  if (parsed.values.help === true || command === undefined || command === 'help') {
    io.out(USAGE);
    return { code: command === undefined && parsed.values.help !== true ? 2 : 0 };
  }
  const flags: Record<string, string> = {};
  const values = parsed.values as Record<string, unknown>;
  for (const flag of CONFIG_FLAGS) {
    const v = values[flag.slice(2)];
    if (typeof v === 'string') flags[flag] = v;
  }
  const config = loadConfig({
    file: parsed.values.config ?? io.env['SWITCHBOARD_CONFIG'],
    env: io.env,
    flags,
  });
  if (!config.ok) {
    io.err(`switchboard: ${config.error.message}\n`);
    return { code: 78 }; // EX_CONFIG
  }
  try {
    switch (command) {
      case 'migrate': {
        const db = openDatabase({ dataDir: config.value.dataDir });
        const report = migrate(db);
        io.out(
          report.applied.length === 0
            ? `Database is up to date (schema ${schemaVersion(db)}).\n`
            : `Migrated schema ${report.from} → ${report.to}: ${report.applied.join(', ')}.\n`,
        );
        db.close();
        return { code: 0 };
      }
      case 'import':
        return { code: await runImport(config.value, file, parsed.values.account, io) };
      case 'start':
        return await runStart(config.value, io);
      default:
        io.err(`switchboard: unknown command ${command}\n\n${USAGE}`);
        return { code: 2 };
    }
  } catch (err) {
    io.err(`switchboard ${command}: ${(err as Error).message}\n`);
    return { code: 1 };
  }
}
