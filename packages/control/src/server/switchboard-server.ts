import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { CallRecorder } from '../brain/call-recorder.js';
import { LocalBrain } from '../brain/local-brain.js';
import { WebhookDispatcher } from '../brain/webhook-dispatcher.js';
import type { SwitchboardConfig } from '../cli/config.js';
import { createEdgeComponent } from '../edge/edge-component.js';
import type { EdgeComponent } from '../edge/edge-component.js';
import { loadMasterKey } from '../store/master-key.js';
import { openDatabase } from '../store/sqlite/open-database.js';
import { SqliteConfigStore } from '../store/sqlite/sqlite-config-store.js';
import { describeDemo, seedDemo } from './demo-seed.js';
import { createHttpApp } from './http-app.js';

export const NODE_TOKEN_FILE = 'node.token';

/** A part of the running server, started in order and stopped in reverse (HTTP now, the SIP edge later). */
export interface ServerComponent {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface RunningSwitchboard {
  readonly store: SqliteConfigStore;
  readonly brain: LocalBrain;
  readonly httpPort: number;
  readonly nodeToken: string;
  /** The SIP edge, when `sip.enabled`. */
  readonly edge: EdgeComponent | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Where to print what a person must see (demo credentials). */
  print?: (text: string) => void;
}

/** The node token from config, else the data directory's token file, created (0600) on first start. */
function nodeToken(config: SwitchboardConfig): string {
  if (config.nodeToken !== undefined) return config.nodeToken;
  const file = join(config.dataDir, NODE_TOKEN_FILE);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return token;
}

/**
 * The composition root: open and migrate the store, seed a demo on first start, build the brain,
 * then start the components in order: admission, webhooks, HTTP, then the SIP edge.
 */
export async function startSwitchboard(
  config: SwitchboardConfig,
  options: StartOptions = {},
): Promise<RunningSwitchboard> {
  const log = options.logger ?? pino({ level: config.logLevel });
  const db = openDatabase({ dataDir: config.dataDir });
  const key = loadMasterKey(config.dataDir);
  if (!key.ok) throw key.error;
  const store = new SqliteConfigStore({ db, masterKey: key.value });
  if (await store.isEmpty())
    (options.print ?? ((s) => process.stdout.write(s)))(describeDemo(await seedDemo(store)));
  const token = nodeToken(config);
  const clock = { nowMs: () => Date.now() };
  const webhooks = new WebhookDispatcher({ queue: store.webhooks, secrets: store.secrets, clock });
  const brain = new LocalBrain({
    directory: store.directory,
    recorder: new CallRecorder(store.records, clock, webhooks.listener, (err) =>
      log.error({ err }, 'call record write failed'),
    ),
  });
  const app = await createHttpApp({ brain, nodeToken: token, store, logger: log });
  let httpPort = config.http.port;
  const components: ServerComponent[] = [
    {
      name: 'admission',
      start: () => Promise.resolve(brain.admission.start()),
      stop: () => Promise.resolve(brain.admission.stop()),
    },
    {
      name: 'webhooks',
      start: () => Promise.resolve(webhooks.start()),
      stop: () => Promise.resolve(webhooks.stop()),
    },
    {
      name: 'http',
      async start() {
        await app.listen({ host: config.http.host, port: config.http.port });
        const address = app.server.address();
        if (typeof address === 'object' && address !== null) httpPort = address.port;
      },
      stop: () => app.close(),
    },
  ];
  // The SIP edge starts last (it needs the brain) and stops first (no new dialogs).
  const edge = config.sip.enabled
    ? createEdgeComponent(config, brain, log.child({ component: 'sip' }))
    : undefined;
  if (edge !== undefined) components.push(edge);
  const started: ServerComponent[] = [];
  try {
    for (const c of components) {
      await c.start();
      started.push(c);
    }
  } catch (err) {
    for (const c of started.reverse()) await c.stop();
    store.close();
    throw err;
  }
  log.info({ port: httpPort, dataDir: config.dataDir }, 'switchboard control plane started');
  return {
    store,
    brain,
    nodeToken: token,
    edge,
    get httpPort() {
      return httpPort;
    },
    async stop() {
      for (const c of [...started].reverse()) await c.stop();
      await brain.close();
      store.close();
    },
  };
}
