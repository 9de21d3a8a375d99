import t from 'tap';
import { FlowIdCache, MAX_FLOW_IDS } from '../../src/cluster/flow-id-cache.js';

t.test('a handed-over flow id gives one frozen flow, the same for every message', (t) => {
  const cache = new FlowIdCache();
  const id = 'udp:127.0.0.1:5060->192.0.2.7:5070';
  const flow = cache.get(id);
  t.same(flow, {
    protocol: 'udp',
    local: { address: '127.0.0.1', port: 5060 },
    remote: { address: '192.0.2.7', port: 5070 },
    flowId: id,
  });
  t.equal(cache.get(id), flow);
  t.ok(Object.isFrozen(flow) && Object.isFrozen(flow?.remote) && Object.isFrozen(flow?.local));
  t.equal(cache.get('tcp:127.0.0.1:5060->192.0.2.7:40312#17@w1')?.protocol, 'tcp');
  t.end();
});

t.test('text that is not a flow id gives undefined and is not remembered', (t) => {
  const cache = new FlowIdCache();
  t.equal(cache.get('not a flow'), undefined);
  t.equal(cache.get('sctp:1.2.3.4:1->5.6.7.8:2'), undefined);
  t.equal(cache.size, 0);
  t.end();
});

t.test('the cache is bounded: past its limit it starts over', (t) => {
  const cache = new FlowIdCache();
  for (let i = 0; i < MAX_FLOW_IDS; i++)
    cache.get(`udp:127.0.0.1:5060->10.0.${i >> 8}.${i & 255}:1`);
  t.equal(cache.size, MAX_FLOW_IDS);
  cache.get('udp:127.0.0.1:5060->10.1.0.0:1');
  t.equal(cache.size, 1);
  t.end();
});
