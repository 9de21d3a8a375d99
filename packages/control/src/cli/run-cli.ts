import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { migrate, schemaVersion } from '../store/migrations.js';
import { loadMasterKey } from '../store/master-key.js';
import { openDatabase } from '../store/sqlite/open-database.js';
import { SqliteConfigStore } from '../store/sqlite/sqlite-config-store.js';
import { startSwitchboard } from '../server/switchboard-server.js';
import type { RunningSwitchboard } from '../server/switchboard-server.js';
import { loadConfig } from './config.js';
import type { SwitchboardConfig } from './config.js';
import { parseCsv } from './csv.js';

export const USAGE = `Usage: switchboard <command> [options]

Commands:
  start                 start the server: HTTP API on port 8080, SIP on UDP/TCP 5060 and WS 5066
  migrate               create or upgrade the database in the data directory
  import <file>         import a provisioning file: .json (any tables) or .csv (subscribers:
                        domain,username,password[,display_name,caller_id_number,extension,account_id])
Options:
  --config <file>       YAML or JSON config file (also SWITCHBOARD_CONFIG)
  --data-dir <dir>      data directory (default ./data)
  --host <addr>         HTTP listen address      --port <n>   HTTP port (default 8080)
  --node-token <token>  token for the control-plane API
  --log-level <level>   fatal, error, warn, info, debug, trace, silent
  --sip on|off          the SIP edge (default on)   --sip-host <addr>  SIP listen address (0.0.0.0)
  --sip-udp-port <n|off>  --sip-tcp-port <n|off>  (5060)   --sip-ws-port <n|off>  (5066)
  --sip-advertised-host <host>  host for Record-Route behind a wildcard address
  --media-mode <m>      anchor media on the relay: always, nat, never (default always)
  --media-address <addr>  relay address   --media-advertised <addr>  address put in SDP
  --rtp-min <n> --rtp-max <n>  relay port range (30000-39999)   --media-kernel on|off
  --account <id>        import: account for rows that name none
`;

const EDGE_FLAGS = [
  'sip',
  'sip-host',
  'sip-udp-port',
  'sip-tcp-port',
  'sip-ws-port',
  'sip-advertised-host',
  'media-mode',
  'media-address',
  'media-advertised',
  'rtp-min',
  'rtp-max',
  'media-kernel',
] as const;
const EDGE_FLAG_OPTIONS = Object.fromEntries(
  EDGE_FLAGS.map((f) => [f, { type: 'string' as const }]),
) as Record<(typeof EDGE_FLAGS)[number], { type: 'string' }>;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

export interface CliResult {
  code: number;
  /** Set by `start`: the running server (the caller waits for a signal, then stops it). */
  server?: RunningSwitchboard;
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

/** The `switchboard` command; returns an exit code (and the server for `start`). Never exits the process. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<CliResult> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'node-token': { type: 'string' },
        'log-level': { type: 'string' },
        ...EDGE_FLAG_OPTIONS,
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
  for (const name of ['data-dir', 'host', 'port', 'node-token', 'log-level', ...EDGE_FLAGS]) {
    const v = values[name];
    if (typeof v === 'string') flags[`--${name}`] = v;
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
      case 'start': {
        const logger = pino({ level: config.value.logLevel });
        const server = await startSwitchboard(config.value, { logger, print: io.out });
        io.out(
          `Switchboard control plane listening on http://${config.value.http.host}:${server.httpPort} (data in ${config.value.dataDir}).\n`,
        );
        for (const line of server.edge?.describe() ?? []) io.out(`${line}\n`);
        return { code: 0, server };
      }
      default:
        io.err(`switchboard: unknown command ${command}\n\n${USAGE}`);
        return { code: 2 };
    }
  } catch (err) {
    io.err(`switchboard ${command}: ${(err as Error).message}\n`);
    return { code: 1 };
  }
}
