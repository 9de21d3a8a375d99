/** A two-worker cluster on 127.0.0.1 (temp data dir, ephemeral ports per worker) for tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/cli/config.js';
import {
  runSwitchboardCluster,
  type RunningCluster,
} from '../../../src/cluster/cluster-primary.js';
import type { WorkerInspection } from '../../../src/cluster/cluster-messages.js';

export interface ClusterFixture {
  cluster: RunningCluster;
  passwords: Record<string, string>;
  port(worker: number, protocol: 'udp' | 'tcp'): number;
  /** Polls a worker until `pred` holds (bounded), returning the last inspection. */
  until(worker: number, pred: (i: WorkerInspection) => boolean): Promise<WorkerInspection>;
  close(): Promise<void>;
}

/** `flags` add to (or override) the fixture's command-line flags. */
export async function startClusterFixture(
  flags: Record<string, string> = {},
): Promise<ClusterFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-cluster-'));
  const config = loadConfig({
    env: {},
    flags: {
      '--data-dir': dataDir,
      '--host': '127.0.0.1',
      '--port': '0',
      '--log-level': 'silent',
      '--sip-host': '127.0.0.1',
      '--sip-udp-port': '0',
      '--sip-tcp-port': '0',
      '--sip-ws-port': 'off',
      '--media-mode': 'never',
      '--workers': '2',
      ...flags,
    },
  });
  if (!config.ok) throw new Error(config.error.message);
  let printed = '';
  const cluster = await runSwitchboardCluster(config.value, {
    sharedPorts: false,
    print: (s) => (printed += s),
  });
  const passwords: Record<string, string> = {};
  for (const m of printed.matchAll(/user (\d+)\s+password (\S+)/g))
    passwords[m[1] as string] = m[2] as string;
  return {
    cluster,
    passwords,
    port(worker, protocol) {
      const lp = cluster.listeningPoints(worker).find((p) => p.protocol === protocol);
      if (lp === undefined) throw new Error(`worker ${worker} has no ${protocol} listening point`);
      return lp.local.port;
    },
    async until(worker, pred) {
      for (let i = 0; i < 200; i++) {
        const s = await cluster.inspect(worker);
        if (pred(s)) return s;
        await new Promise((r) => setTimeout(r, 10));
      }
      return cluster.inspect(worker);
    },
    async close() {
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
