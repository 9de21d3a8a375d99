// Child process of route-bench: serves the control-plane API over the seeded data directory on one
// core, prints its port, and exits when its parent closes stdin.
import Fastify from 'fastify';
import { LocalBrain } from '../../packages/control/src/brain/local-brain.js';
import { createHttpApp } from '../../packages/control/src/server/http-app.js';
import { openStore } from './bench-world.js';

const dir = process.argv[2] ?? '';
const token = process.argv[3] ?? '';
const store = openStore(dir);
const brain = new LocalBrain({ directory: store.directory });
const app = await createHttpApp({ brain, nodeToken: token });
await app.listen({ host: '127.0.0.1', port: 0 });
// Transport ceiling: the same framework answering a constant, on the same core.
const echo = Fastify();
echo.post('/route', () => ({ ok: true }));
await echo.listen({ host: '127.0.0.1', port: 0 });
const port = (s: typeof app.server) => {
  const a = s.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
};
process.stdout.write(`${port(app.server)} ${port(echo.server)}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void Promise.all([app.close(), echo.close()]).then(() => {
    store.close();
    process.exit(0);
  });
});
