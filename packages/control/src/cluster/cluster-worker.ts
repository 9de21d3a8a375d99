/**
 * One SIP worker of `switchboard start --workers N`: the usual edge node (transports →
 * transactions → registrar | proxy) whose transport hands every received message to the worker
 * owning its Call-ID, writes on stream flows held by other workers through them, keeps a
 * replicated copy of the registrations, anchors media on its own slice of the relay's ports, and
 * asks the primary's brain over IPC (authenticate is answered from a local read of the store).
 */
import { pino } from 'pino';
import { parseFlowId, type Flow, type ListenSpec } from '@switchboard/sip-stack';
import { Authenticator } from '../brain/authenticator.js';
import { openRelay, serviceOptions, type OpenedRelay } from '../server/edge-service.js';
import { EdgeNode } from '../edge/edge-node.js';
import { CachingDirectory } from '../store/caching-directory.js';
import { openDatabase } from '../store/sqlite/open-database.js';
import { SqliteDirectory } from '../store/sqlite/sqlite-directory.js';
import { ClusterBrain, type IpcChannel } from './brain-ipc.js';
import { callIdOwner } from './call-id-owner.js';
import {
  CLUSTER_INIT_ENV,
  isMessage,
  type WorkerInit,
  type WorkerInspection,
  type WorkerToPrimary,
} from './cluster-messages.js';
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
  const auth = localAuthenticate(config.dataDir);
  const brain = new ClusterBrain({
    channel,
    ...(auth === undefined ? {} : { authenticate: (req) => auth.authenticate(req) }),
  });
  let node: EdgeNode | undefined;
  // The mesh delivers replication before the location service exists: read it through a holder.
  const held: { location?: ReplicatedLocationService } = {};
  const mesh = new WorkerMesh({
    dir: init.meshDir,
    index,
    workers,
    handler: {
      onFlowBytes: (kind, flowId, bytes) => {
        if (node === undefined) return;
        if (kind === 'write') {
          counters.remoteWrites++;
          node.transport
            .writeFlow(flowId, bytes)
            .catch((err: unknown) => log.debug({ err, flowId }, 'remote write failed'));
          return;
        }
        const flow = parseFlowId(flowId);
        if (flow === undefined) return;
        counters.injected++;
        node.transport.injectReceived(bytes, flow);
      },
      onControl: (value) => {
        const c = value as { t?: string; c?: LocationReplication };
        if (c.t === 'loc' && c.c !== undefined)
          held.location
            ?.applyRemote(c.c)
            .catch((err: unknown) => log.warn({ err }, 'replication failed'));
      },
    },
  });
  const location = new ReplicatedLocationService({
    publish: (c) => mesh.broadcastControl({ t: 'loc', c }),
    emitExpiry: index === 0,
  });
  held.location = location;
  const options = serviceOptions(config, log);
  const listen: ListenSpec[] = options.listen.map((s) =>
    init.sharedPorts ? { ...s, exclusive: false } : { ...s, port: 0 },
  );
  const media = { ...options.media, ports: relaySlice(options.media.ports, index, workers) };
  let relay: OpenedRelay | undefined;
  try {
    relay = openRelay(media, log);
    node = new EdgeNode(
      { ...options, listen, media },
      {
        brain,
        location,
        ...(relay === undefined ? {} : { relay: relay.port }),
      },
    );
    const suffix = `@w${index}`;
    node.transport.useCluster({
      flowIdSuffix: suffix,
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
    await mesh.listen();
    send({ t: 'mesh-listening' });
    await nextMessage(channel, 'mesh-connect');
    await mesh.connect();
    send({ t: 'mesh-ready' });
    await nextMessage(channel, 'start');
    const points = await node.start();
    send({ t: 'started', points: [...points] });
  } catch (err) {
    log.error({ err }, 'SIP worker failed to start');
    send({ t: 'failed', error: String(err) });
    relay?.close();
    await mesh.close();
    return;
  }
  const running = node;
  channel.on('message', (m) => {
    if (isMessage<{ t: 'inspect'; id: number }>(m, 'inspect')) {
      void inspect(running, location, mesh, counters, index).then((value) =>
        send({ t: 'inspect-res', id: m.id, value }),
      );
    }
  });
  await nextMessage(channel, 'stop');
  await running.stop();
  await location.close();
  relay?.close();
  await mesh.close();
  brain.close();
  send({ t: 'stopped' });
}

async function inspect(
  node: EdgeNode,
  location: ReplicatedLocationService,
  mesh: WorkerMesh,
  counters: Counters,
  index: number,
): Promise<WorkerInspection> {
  return {
    index,
    pid: process.pid,
    bindings: await location.count(),
    activeCalls: node.calls.size,
    forwarded: counters.forwarded,
    injected: counters.injected,
    remoteWrites: counters.remoteWrites,
    meshDropped: mesh.stats.droppedFrames,
  };
}
