/** The event emitter under every transaction, request, dialog and call. */
import t from 'tap';
import { TypedEmitter } from '../../src/endpoint/typed-emitter.js';

type Events = { ring: [n: number]; answer: [who: string, code: number]; bye: [] };

class Probe extends TypedEmitter<Events> {
  errors: [unknown, string][] = [];
  constructor() {
    super();
    this.setListenerErrorHandler((err, event) => this.errors.push([err, event]));
  }
  fire<K extends keyof Events>(event: K, ...args: Events[K]): boolean {
    return this.emit(event, ...args);
  }
  clear(): void {
    this.removeAllListeners();
  }
}

t.test(
  'an event without listeners reports false, and with listeners each gets the arguments',
  (t) => {
    const e = new Probe();
    t.equal(e.fire('ring', 1), false, 'nobody listens yet');
    const seen: string[] = [];
    e.on('answer', (who, code) => seen.push(`first ${who} ${code}`));
    e.on('ring', (n) => seen.push(`ring ${n}`));
    e.on('answer', (who, code) => seen.push(`second ${who} ${code}`));
    t.equal(e.fire('ring', 3), true);
    t.equal(e.fire('answer', 'bob', 200), true);
    t.equal(e.fire('bye'), false, 'other events are separate');
    t.same(seen, ['ring 3', 'first bob 200', 'second bob 200'], 'in registration order');
    t.equal(e.listenerCount('answer'), 2);
    t.equal(e.listenerCount('ring'), 1);
    t.equal(e.listenerCount('bye'), 0);
    t.end();
  },
);

t.test('once listens to one emit; off removes exactly the listener given', (t) => {
  const e = new Probe();
  const seen: number[] = [];
  const keep = (n: number): void => void seen.push(n);
  const drop = (n: number): void => void seen.push(-n);
  e.once('ring', (n) => seen.push(n * 100));
  e.on('ring', keep).on('ring', drop);
  e.fire('ring', 1);
  e.off('ring', drop);
  e.off('bye', () => undefined);
  e.fire('ring', 2);
  t.same(seen, [100, 1, -1, 2]);
  t.equal(e.listenerCount('ring'), 1);
  t.end();
});

t.test('listeners added or removed during an emit change the next emit, not this one', (t) => {
  const e = new Probe();
  const seen: string[] = [];
  const late = (): void => void seen.push('late');
  const second = (): void => void seen.push('second');
  e.on('bye', () => {
    seen.push('first');
    e.off('bye', second);
    e.on('bye', late);
  });
  e.on('bye', second);
  e.fire('bye');
  t.same(seen, ['first', 'second'], 'the removed one still ran, the added one did not');
  seen.length = 0;
  e.fire('bye');
  t.same(seen, ['first', 'late']);

  const solo = new Probe();
  const order: string[] = [];
  solo.on('ring', () => {
    order.push('only');
    solo.on('ring', () => order.push('added'));
  });
  solo.fire('ring', 1);
  t.same(order, ['only'], 'a single listener adding another does not run it in the same emit');
  t.end();
});

t.test('a listener that throws reaches the error handler and the others still run', (t) => {
  const e = new Probe();
  const seen: string[] = [];
  const boom = new Error('boom');
  e.on('answer', () => {
    throw boom;
  });
  e.on('answer', (who) => seen.push(who));
  t.equal(e.fire('answer', 'carol', 180), true);
  t.same(seen, ['carol']);
  t.same(e.errors, [[boom, 'answer']]);

  const solo = new Probe();
  solo.on('bye', () => {
    throw boom;
  });
  t.doesNotThrow(() => solo.fire('bye'), 'a lone throwing listener never reaches the emitter');
  t.same(solo.errors, [[boom, 'bye']]);
  t.end();
});

t.test('removeAllListeners forgets every event, and the emitter works again afterwards', (t) => {
  const e = new Probe();
  const seen: number[] = [];
  e.on('ring', (n) => seen.push(n));
  e.on('bye', () => seen.push(0));
  e.clear();
  t.equal(e.fire('ring', 1), false);
  t.equal(e.fire('bye'), false);
  t.equal(e.listenerCount('ring'), 0);
  e.on('ring', (n) => seen.push(n));
  e.fire('ring', 2);
  t.same(seen, [2]);
  t.end();
});
