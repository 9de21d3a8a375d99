#!/usr/bin/env node
import { runCli } from './run-cli.js';

const io = {
  out: (s: string) => process.stdout.write(s),
  err: (s: string) => process.stderr.write(s),
  env: process.env,
};
const result = await runCli(process.argv.slice(2), io);
const server = result.server;
if (server === undefined) {
  process.exitCode = result.code;
} else {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    io.err(`${signal}: stopping\n`);
    server.stop().then(
      () => (process.exitCode = 0),
      (err: unknown) => {
        io.err(`stop failed: ${(err as Error).message}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
