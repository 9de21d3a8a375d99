import t from 'tap';
import { PresenceTracker } from '../../src/brain/presence-tracker.js';

t.test(
  'presence: an unreachable device stays registered but is not online until it answers',
  (t) => {
    const p = new PresenceTracker();
    p.registered('u1', 'desk');
    p.registered('u1', 'mobile');
    t.same(p.onlineDevices('u1'), ['desk', 'mobile']);
    p.unreachable('u1', 'desk');
    t.same(p.onlineDevices('u1'), ['mobile']);
    t.same(p.unreachableDevices('u1'), ['desk']);
    t.ok(p.isOnline('u1'), 'online through its other device');
    p.unreachable('u1', 'mobile');
    t.notOk(p.isOnline('u1'), 'no device answers');
    p.reachable('u1', 'desk');
    t.same(p.onlineDevices('u1'), ['desk']);
    t.ok(p.isOnline('u1'));
    t.end();
  },
);

t.test(
  'presence: unregistering forgets unreachability; an unregistered device is never marked',
  (t) => {
    const p = new PresenceTracker();
    p.unreachable('u2', 'desk');
    t.same(p.unreachableDevices('u2'), [], 'not registered: nothing to mark');
    p.registered('u2', 'desk');
    p.unreachable('u2', 'desk');
    p.unregistered('u2', 'desk');
    t.same(p.unreachableDevices('u2'), []);
    p.registered('u2', 'desk');
    t.ok(p.isOnline('u2'), 'a fresh registration is online');
    t.end();
  },
);
