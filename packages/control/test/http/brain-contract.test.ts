import t from 'tap';
import { HttpBrain } from '../../src/http/http-brain.js';
import { createHttpApp } from '../../src/server/http-app.js';
import { brainContract } from '../support/brain-contract.js';

const TOKEN = 'test-node-token-0123456789';

brainContract(t, 'in-process', (local) =>
  Promise.resolve({ brain: local, close: () => Promise.resolve() }),
);

brainContract(t, 'over HTTP', async (local) => {
  const app = await createHttpApp({ brain: local, nodeToken: TOKEN });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const brain = new HttpBrain({ baseUrl: `http://127.0.0.1:${port}`, nodeToken: TOKEN });
  return {
    brain,
    async close() {
      brain.close();
      await app.close();
    },
  };
});
