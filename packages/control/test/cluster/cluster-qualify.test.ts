import t from 'tap';
import type { SipRequest } from '@switchboard/sip-stack';
import type { PresenceEvent } from '../../src/brain/brain.js';
import { clusterCallId, ownerOfCallId } from '../../src/cluster/call-id-owner.js';
import { startClusterFixture } from './support/cluster-fixture.js';
import { RawUa, registerUa } from './support/raw-ua.js';

t.test(
  'two SIP workers: a contact is qualified by one worker, whose reply reaches it through the other',
  async (t) => {
    const f = await startClusterFixture({ '--sip-qualify-interval-sec': '1' });
    t.teardown(() => f.close());
    const brain = f.cluster.server.brain;
    const events: PresenceEvent[] = [];
    const forward = brain.presenceEvent.bind(brain);
    brain.presenceEvent = (e: PresenceEvent) => {
      events.push(e);
      return forward(e);
    };
    const p0 = f.port(0, 'udp');
    const p1 = f.port(1, 'udp');
    const ua = await RawUa.udp('1002', f.passwords['1002'] ?? '');
    t.teardown(() => ua.close());

    // registered through worker 0, with a Call-ID that belongs to worker 1
    const ok = await registerUa(ua, p0, clusterCallId(1));
    t.equal(ok.status, 200);
    const first = await ua.requestIn('OPTIONS');
    t.equal(ownerOfCallId(first.callId, 2), 1, 'the OPTIONS Call-ID belongs to worker 1');
    t.equal(first.topVia?.port, p1, 'sent by worker 1');
    // answered to worker 0, which does not own it: the reply must still reach worker 1
    ua.reply(first, 200, p0);
    const reachable = await new Promise<PresenceEvent | undefined>((resolve) => {
      const end = Date.now() + 5000;
      const poll = (): void => {
        const e = events.find((x) => x.type === 'reachable');
        if (e !== undefined || Date.now() > end) resolve(e);
        else setTimeout(poll, 50);
      };
      poll();
    });
    t.ok(reachable !== undefined, 'the control plane heard that the device is reachable');

    // the next passes come from worker 1 alone (worker 0 has the binding too, replicated)
    const later: SipRequest[] = [];
    for (let i = 0; i < 2; i++) {
      const o = await ua.requestIn('OPTIONS');
      later.push(o);
      ua.reply(o, 200, p1);
    }
    t.same(
      later.map((o) => [o.topVia?.port, ownerOfCallId(o.callId, 2)]),
      [
        [p1, 1],
        [p1, 1],
      ],
    );
    t.equal(events.filter((e) => e.type === 'reachable').length, 1, 'reported once');
  },
);
