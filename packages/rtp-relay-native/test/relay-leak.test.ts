import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { RtpRelay } from '../src/index.js';
import { PORT_MODES, rangeFor, skipFor } from './support/port-modes.js';

// Port range of this file: 44000–44999 (sockets mode), 25000–25999 (shared mode).
// Bounded: 5,000 sessions in total per mode.

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

function rssBytes(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb ?? 0) * 1024;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

for (const mode of PORT_MODES) {
  t.test(
    `creating and closing 5,000 sessions leaks no ports, descriptors or memory (${mode} ports)`,
    { skip: skipFor(mode) },
    async (t) => {
      const relay = RtpRelay.create({
        ports: rangeFor(mode, 44000, 44999),
        addresses: ['127.0.0.1'],
        kernel: false,
        portMode: mode,
      });
      t.teardown(() => relay.close());
      const round = async (n: number): Promise<void> => {
        for (let i = 0; i < n; i += 50) {
          const batch = Array.from({ length: 50 }, () => relay.createSession());
          for (const s of batch) s.setRemote('a', { address: '127.0.0.1', rtpPort: 9 });
          for (const s of batch) s.close();
          await tick(); // let the closed-event batches through
        }
      };
      await round(500); // warm-up: thread buffers, maps, JIT
      await new Promise((r) => setTimeout(r, 50));
      const fds0 = openFds();
      const rss0 = rssBytes();
      await round(4500);
      await new Promise((r) => setTimeout(r, 50));
      const fds1 = openFds();
      const rss1 = rssBytes();
      t.equal(
        relay.info().ports.free,
        relay.info().ports.total,
        'every port pair is back in the pool',
      );
      t.equal(relay.info().sessions, 0);
      t.ok(Math.abs(fds1 - fds0) <= 2, `fds ${fds0} -> ${fds1}`);
      t.ok(rss1 - rss0 < 24 * 1024 * 1024, `rss grew ${((rss1 - rss0) / 1048576).toFixed(1)} MiB`);
    },
  );
}
