/** Entry of a SIP worker process forked by `runSwitchboardCluster`. */
import { runClusterWorker } from './cluster-worker.js';

runClusterWorker().then(
  () => process.disconnect?.(),
  (err: unknown) => {
    process.stderr.write(`switchboard worker: ${String(err)}\n`);
    process.exit(1);
  },
);
