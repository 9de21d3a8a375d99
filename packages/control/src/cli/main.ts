#!/usr/bin/env node
import { runCli, runningNode } from './run-cli.js';

const io = {
  out: (s: string) => process.stdout.write(s),
  err: (s: string) => process.stderr.write(s),
  env: process.env,
};
const result = await runCli(process.argv.slice(2), io);
const node = runningNode(result);
if (node === undefined) {
  process.exitCode = result.code;
} else {
  let signals = 0;
  const done = (code: number) => {
    // Everything is closed; a lingering keep-alive socket must not hold the process.
    process.exit(code);
  };
  const stop = (signal: string) => {
    signals++;
    if (signals > 1) {
      io.err(`${signal} again: stopping now, ending the remaining calls\n`);
      node.stop().then(
        () => done(0),
        () => done(1),
      );
      return;
    }
    const calls = node.edge?.activeCalls() ?? 0;
    io.err(
      `${signal}: draining (${calls} calls; new calls get 503), then stopping. ` +
        `Send ${signal} again to stop at once.\n`,
    );
    node.shutdown().then(
      ({ drained }) => {
        io.err(
          drained
            ? 'all calls ended; stopped\n'
            : 'drain timeout: remaining calls ended; stopped\n',
        );
        done(0);
      },
      (err: unknown) => {
        io.err(`stop failed: ${(err as Error).message}\n`);
        done(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
