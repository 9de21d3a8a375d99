/**
 * One SIP worker of `switchboard start --workers N`: the usual edge node (transports →
 * transactions → registrar | proxy) whose transport hands every received message to the worker
 * owning its Call-ID, writes on stream flows held by other workers through them, keeps a
 * replicated copy of the registrations, anchors media on its own slice of the relay's ports, and
 * asks the primary's brain over IPC (authenticate is answered from a local read of the store).
 */
import { pino } from 'pino';
import type { Flow, ListenSpec } from '@switchboard/sip-stack';
import { Authenticator } from '../brain/authenticator.js';
import type { LocationService } from '@switchboard/registrar';
import { NativeMediaRelay } from '../b2bua-bridge/native-media-relay.js';
import {
  openLocation,
  openRelay,
  relayHealth,
  serviceOptions,
  type OpenedRelay,
} from '../server/edge-service.js';
import { EdgeNode } from '../edge/edge-node.js';
import { CachingDirectory } from '../store/caching-directory.js';
import { openDatabase } from '../store/sqlite/open-database.js';
import { SqliteDirectory } from '../store/sqlite/sqlite-directory.js';
import { ClusterBrain, type IpcChannel } from './brain-ipc.js';
import { callIdOwner, clusterCallId, ownerOfCallId } from './call-id-owner.js';
import {
  CLUSTER_INIT_ENV,
  isMessage,
  type WorkerInit,
  type WorkerInspection,
  type WorkerRequest,
  type WorkerToPrimary,
} from './cluster-messages.js';
import { FlowIdCache } from './flow-id-cache.js';
import { relaySlice } from './relay-slice.js';
import { ReplicatedLocationService, type LocationReplication } from './replicated-location.js';
import { WorkerMesh } from './worker-mesh.js';

const FLOW_OWNER = /@w(\d+)$/;

/** The worker holding a stream flow, from the suffix its flow id carries. */
export function flowOwner(flowId: string): number | undefined {
  const m = FLOW_OWNER.exec(flowId);
  return m === null ? undefined : Number(m[1]);
}

function nextMessage<T extends { t: string }>(channel: IpcChannel, t: T['t']): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: unknown): void => {
      if (!isMessage<T>(m, t)) return;
      (channel as unknown as NodeJS.EventEmitter).off('message', on);
      resolve(m);
    };
    channel.on('message', on);
  });
}

/** authenticate from this worker's read-only view of the store (reads are safe across processes). */
function localAuthenticate(dataDir: string): Authenticator | undefined {
  if (dataDir === ':memory:') return undefined;
  const db = openDatabase({ dataDir, readonly: true });
  let version = db.pragma('data_version', { simple: true });
  const changedElsewhere = (): boolean => {
    const v = db.pragma('data_version', { simple: true });
    if (v === version) return false;
    version = v;
    return true;
  };
  return new Authenticator(new CachingDirectory(new SqliteDirectory(db), { changedElsewhere }));
}

function readInit(json: string | undefined): WorkerInit | undefined {
  if (json === undefined) return undefined;
  try {
    const v = JSON.parse(json) as unknown;
    return isMessage<WorkerInit>(v, 'init') ? v : undefined;
  } catch {
    return undefined;
  }
}

interface Counters {
  forwarded: number;
  injected: number;
  remoteWrites: number;
}

/** This worker's registrations: the shared Redis when configured, else a replicated copy. */
interface WorkerLocation {
  readonly service: LocationService;
  readonly replicated: ReplicatedLocationService | undefined;
}

async function workerLocation(init: WorkerInit, mesh: WorkerMesh): Promise<WorkerLocation> {
  if (init.config.location.redis !== undefined) {
    // every worker (and every node) reads and writes the same bindings: nothing to replicate
    return { service: await openLocation(init.config), replicated: undefined };
  }
  const replicated = new ReplicatedLocationService({
    publish: (c) => mesh.broadcastControl({ t: 'loc', c }),
    emitExpiry: init.index === 0,
  });
  return { service: replicated, replicated };
}

const REQUESTS: ReadonlySet<string> = new Set<WorkerRequest['t']>([
  'inspect',
  'snapshot',
  'drain',
  'mesh-peer',
]);

/** Reports the number of calls to the primary when it changed, at most once a second. */
function reportCalls(node: EdgeNode, send: (m: WorkerToPrimary) => void): () => void {
  let last = 0;
  const timer = setInterval(() => {
    const calls = node.calls.size;
    if (calls !== last) send({ t: 'calls', calls });
    last = calls;
  }, 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/** Runs a worker until the primary says stop. `channel` is `process` in a cluster worker. */
export async function runClusterWorker(
  channel: IpcChannel = process as unknown as IpcChannel,
  initJson: string | undefined = process.env[CLUSTER_INIT_ENV],
): Promise<void> {
  const send = (m: WorkerToPrimary): void => void channel.send(m);
  const init = readInit(initJson);
  if (init === undefined) throw new Error(`${CLUSTER_INIT_ENV} is missing or not valid`);
  const { index, workers, config } = init;
  const log = pino({ level: config.logLevel }).child({ component: 'sip', worker: index });
  const counters: Counters = { forwarded: 0, injected: 0, remoteWrites: 0 };
  // (an edge node of a remote control plane has no store here: the primary relays authenticate)
  const auth = config.brain === undefined ? localAuthenticate(config.dataDir) : undefined;
  const brain = new ClusterBrain({
    channel,
    ...(auth === undefined ? {} : { authenticate: (req) => auth.authenticate(req) }),
  });
  // The mesh delivers before the node and the location service exist: read them through a holder.
  const held: { node?: EdgeNode; location?: WorkerLocation } = {};
  const flows = new FlowIdCache();
  const mesh = new WorkerMesh({
    dir: init.meshDir,
    index,
    workers,
    handler: {
      onFlowBytes: (kind, flowId, bytes) => {
        const node = held.node;
        if (node === undefined) return;
        if (kind === 'write') {
          counters.remoteWrites++;
          node.transport
            .writeFlow(flowId, bytes)
            .catch((err: unknown) => log.debug({ err, flowId }, 'remote write failed'));
          return;
        }
        const flow = flows.get(flowId);
        if (flow === undefined) return;
        counters.injected++;
        node.transport.injectReceived(bytes, flow);
      },
      onControl: (value, from) => {
        const c = value as { t?: string; c?: LocationReplication };
        const replicated = held.location?.replicated;
        if (replicated === undefined) return;
        if (c.t === 'loc' && c.c !== undefined)
          replicated
            .applyRemote(c.c)
            .catch((err: unknown) => log.warn({ err }, 'replication failed'));
        // a restarted peer asks for every binding it missed
        else if (c.t === 'loc-sync')
          void replicated.snapshot().then((snap) => mesh.sendControl(from, { t: 'loc', c: snap }));
      },
    },
  });
  const options = serviceOptions(config, log);
  const listen: ListenSpec[] = options.listen.map((s) =>
    init.sharedPorts ? { ...s, exclusive: false } : { ...s, port: 0 },
  );
  const media = { ...options.media, ports: relaySlice(options.media.ports, index, workers) };
  let relay: OpenedRelay | undefined;
  let node: EdgeNode;
  let location: WorkerLocation;
  try {
    location = held.location = await workerLocation(init, mesh);
    relay = openRelay(media, log);
    node = held.node = new EdgeNode(
      // replies to the calls, registrations and probes started here come back to this worker
      {
        ...options,
        listen,
        media,
        callId: () => clusterCallId(index),
        // each binding is qualified by one worker: the one its REGISTERs' Call-ID belongs to
        reachabilityFilter: (b) => ownerOfCallId(b.callId, workers) === index,
      },
      {
        brain,
        location: location.service,
        secrets: brain.secrets,
        ...(relay === undefined
          ? {}
          : { relay: relay.port, mediaRelay: new NativeMediaRelay(relay.native) }),
      },
    );
    useCluster(node, mesh, index, workers, counters);
    await mesh.listen();
    send({ t: 'mesh-listening' });
    await nextMessage(channel, 'mesh-connect');
    const missing = await mesh.connect(init.restarted === true);
    if (missing > 0) log.warn({ missing }, 'some SIP workers are down: reaching the others');
    send({ t: 'mesh-ready' });
    await nextMessage(channel, 'start');
    const points = await node.start();
    if (init.restarted === true) mesh.sendControl(index === 0 ? 1 : 0, { t: 'loc-sync' });
    send({ t: 'started', points: [...points], relay: relayHealth(media.mode, relay) });
  } catch (err) {
    log.error({ err }, 'SIP worker failed to start');
    send({ t: 'failed', error: String(err) });
    relay?.close();
    await held.location?.service.close();
    await mesh.close();
    return;
  }
  const stopReporting = reportCalls(node, send);
  channel.on('message', (m) => {
    const r = m as WorkerRequest;
    if (typeof r !== 'object' || r === null || typeof r.id !== 'number') return;
    // (brain replies carry ids of their own)
    if (!REQUESTS.has(r.t)) return;
    void answer(r, node, location, mesh, counters, index, relay).then(
      (value) => send({ t: 'reply', id: r.id, value }),
      (err: unknown) => log.warn({ err, request: r.t }, 'cluster request failed'),
    );
  });
  await nextMessage(channel, 'stop');
  stopReporting();
  await node.stop();
  await location.service.close();
  relay?.close();
  await mesh.close();
  brain.close();
  send({ t: 'stopped' });
}

/** Hands messages to the worker owning their Call-ID and stream writes to the flow's holder. */
function useCluster(
  node: EdgeNode,
  mesh: WorkerMesh,
  index: number,
  workers: number,
  counters: Counters,
): void {
  node.transport.useCluster({
    flowIdSuffix: `@w${index}`,
    dispatch: (bytes: Buffer, flow: Flow) => {
      const owner = callIdOwner(bytes, workers);
      // RFC 3261 §17: a message without a Call-ID matches no transaction; answer it here.
      if (owner === undefined || owner === index) return 'local';
      if (!mesh.sendFlowBytes(owner, 'inbound', flow.flowId ?? '', bytes)) return 'local';
      counters.forwarded++;
      return 'handled';
    },
    remoteFlows: {
      isRemote: (flowId) => {
        const w = flowOwner(flowId);
        return w !== undefined && w !== index && w < workers;
      },
      write: (flowId, bytes) =>
        mesh.sendFlowBytes(flowOwner(flowId) ?? -1, 'write', flowId, bytes)
          ? Promise.resolve()
          : Promise.reject(new Error(`flow ${flowId}: its worker is unreachable`)),
    },
  });
}

/** The reply to one of the primary's requests. */
async function answer(
  r: WorkerRequest,
  node: EdgeNode,
  location: WorkerLocation,
  mesh: WorkerMesh,
  counters: Counters,
  index: number,
  relay: OpenedRelay | undefined,
): Promise<unknown> {
  switch (r.t) {
    case 'inspect':
      return {
        index,
        pid: process.pid,
        bindings: await location.service.count(),
        activeCalls: node.calls.size,
        forwarded: counters.forwarded,
        injected: counters.injected,
        remoteWrites: counters.remoteWrites,
        meshDropped: mesh.stats.droppedFrames,
      } satisfies WorkerInspection;
    case 'snapshot':
      return node.snapshot(relay !== undefined && !relay.closed ? relay.info() : undefined);
    case 'drain':
      return node.drain(r.timeoutMs);
    case 'mesh-peer':
      await mesh.connectTo(r.index);
      return true;
  }
}
