import { readFileSync } from 'node:fs';
import t from 'tap';
import { UdpListener, type UdpListenerHandler } from '../../src/transport/udp-listener.js';

const handler: UdpListenerHandler = {
  onDatagram: () => undefined,
  onListenerError: () => undefined,
  onPosted: () => undefined,
  onPostFailed: () => undefined,
};

function rmemMax(): number {
  try {
    return Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
  } catch {
    return 0;
  }
}

t.test(
  'UDP listening point: the receive buffer is raised so a short pause does not drop datagrams',
  async (t) => {
    const spec = { protocol: 'udp' as const, address: '127.0.0.1', port: 0 };
    const plain = await UdpListener.listen(spec, handler, 0);
    const raised = await UdpListener.listen(spec, handler, 4 << 20);
    t.teardown(async () => {
      await plain.close();
      await raised.close();
    });
    const osDefault = plain.receiveBufferSize();
    if (rmemMax() <= osDefault) {
      t.pass('net.core.rmem_max allows no more than the default here: nothing to check');
      return;
    }
    t.ok(raised.receiveBufferSize() > osDefault, 'larger than the OS default');
    t.ok(raised.receiveBufferSize() >= Math.min(4 << 20, rmemMax()), 'up to what the OS allows');
  },
);
