import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { CallRecorder } from '../brain/call-recorder.js';
import { LocalBrain } from '../brain/local-brain.js';
import { WebhookDispatcher } from '../brain/webhook-dispatcher.js';
import type { SwitchboardConfig } from '../cli/config.js';
import { loadMasterKey } from '../store/master-key.js';
import { openDatabase } from '../store/sqlite/open-database.js';
import { SqliteConfigStore } from '../store/sqlite/sqlite-config-store.js';
import { describeDemo, seedDemo } from './demo-seed.js';
import type { Brain } from '../brain/brain.js';
import type { SecretStore } from '../store/secret-store.js';
import { createEdgeService, type EdgeService } from './edge-service.js';
import { createHttpApp } from './http-app.js';
import {
  NodeRuntime,
  httpComponent,
  nodeApi,
  type RunningNode,
  type ServerComponent,
} from './node-runtime.js';

export const NODE_TOKEN_FILE = 'node.token';

export type { RunningNode, ServerComponent } from './node-runtime.js';

export interface RunningSwitchboard extends RunningNode {
  readonly store: SqliteConfigStore;
  readonly brain: LocalBrain;
  readonly nodeToken: string;
}

export interface StartOptions {
  logger?: Logger;
  /** Where to print what a person must see (demo credentials). */
  print?: (text: string) => void;
  /**
   * Builds the SIP edge in place of the in-process one (the cluster's edge runs in worker
   * processes); called only when `sip.enabled`.
   */
  edge?: (brain: Brain, secrets: Pick<SecretStore, 'get'>, log: Logger) => EdgeService;
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
  const store = new SqliteConfigStore({
    db,
    masterKey: key.value,
    // (the CDR writer's failures, its thread's included; a failed batch also rejects to the recorder)
    records: { onWriteError: (err) => log.error({ err }, 'CDR writer error') },
  });
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
  const sipLog = log.child({ component: 'sip' });
  const edge = !config.sip.enabled
    ? undefined
    : (options.edge?.(brain, store.secrets, sipLog) ??
      createEdgeService(config, brain, sipLog, store.secrets));
  const components: ServerComponent[] = [];
  const runtime = new NodeRuntime({
    components,
    edge,
    log,
    drainTimeoutSec: config.drainTimeoutSec,
    store: () => storeHealth(store),
    afterStop: async () => {
      await brain.close();
      // every CDR batch already posted to the writer thread is in the file before we return
      await store.closeAsync();
    },
  });
  const app = await createHttpApp({
    brain,
    nodeToken: token,
    store,
    logger: log,
    ops: {
      health: () => runtime.health(),
      metrics: () => runtime.metrics(),
    },
  });
  const http = httpComponent(app, config);
  components.push(
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
    http,
  );
  // The SIP edge starts last (it needs the brain) and stops first (no new dialogs).
  if (edge !== undefined) components.push(edge);
  await runtime.start();
  log.info({ port: http.port, dataDir: config.dataDir }, 'switchboard control plane started');
  return nodeApi(runtime, http, edge, { store, brain, nodeToken: token });
}

/** The SQLite store answers a trivial query. */
function storeHealth(store: SqliteConfigStore): 'ok' | 'down' {
  try {
    store.db.prepare('SELECT 1').get();
    return 'ok';
  } catch {
    return 'down';
  }
}
