import t from 'tap';
import { ManualClock } from '../../src/util/clock.js';

t.test('ManualClock fires timers in deadline order during advance', (t) => {
  const clock = new ManualClock();
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b'), 20);
  clock.setTimeout(() => fired.push('a'), 10);
  const c = clock.setTimeout(() => fired.push('c'), 15);
  clock.clearTimeout(c);
  clock.advance(15);
  t.same(fired, ['a']);
  t.equal(clock.now(), 15);
  clock.advance(5);
  t.same(fired, ['a', 'b']);
  t.equal(clock.pending, 0);
  t.end();
});

t.test('ManualClock runs timers scheduled by timers within the same advance', (t) => {
  const clock = new ManualClock();
  const at: number[] = [];
  clock.setTimeout(() => {
    at.push(clock.now());
    clock.setTimeout(() => at.push(clock.now()), 10);
  }, 10);
  clock.advance(25);
  t.same(at, [10, 20]);
  t.end();
});
