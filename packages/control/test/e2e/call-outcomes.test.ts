/** What a SIPp caller gets when the callee does not answer: CANCEL, busy, no answer with forwarding. */
import t from 'tap';
import {
  DOMAIN,
  addUser,
  closedCdr,
  startE2eServer,
  updateUser,
  userId,
} from './support/e2e-server.js';
import { freePort } from './support/free-port.js';
import { countOf } from './support/sipp.js';
import {
  callIdPrefix,
  callSipp,
  registerSipp,
  registeredCallee,
  sippPassed,
} from './support/sipp-peers.js';

t.test('call outcomes through the proxy', async (t) => {
  const fx = await startE2eServer();
  t.teardown(() => fx.close());
  const registrar = `127.0.0.1:${fx.ports.udp}`;
  const caller = async (scenario: string, callee: string, name: string, timeoutMs = 8_000) => {
    const callId = callIdPrefix(name);
    const result = await callSipp({
      scenario,
      proxy: registrar,
      port: await freePort(),
      user: '1001',
      password: fx.passwords['1001'] ?? '',
      callee,
      callId,
      timeoutMs,
    });
    return { result, callId: `${callId}1` };
  };

  await t.test(
    'the caller cancels while the callee rings: 487 to the caller, CANCEL to the callee',
    async (t) => {
      const uas = await registeredCallee(t, {
        registrar,
        user: '1002',
        password: fx.passwords['1002'] ?? '',
        scenario: 'uas-ring-cancel.xml',
      });
      const { result, callId } = await caller('uac-cancel.xml', '1002', 'cancel');
      const callee = await uas.done;
      sippPassed(t, result, 'caller');
      sippPassed(t, callee, 'callee');
      t.equal(countOf(result, 'received', '487'), 1, 'the caller got 487 Request Terminated');
      t.equal(countOf(callee, 'received', 'CANCEL'), 1, 'the callee got the CANCEL');
      t.equal(countOf(callee, 'received', 'ACK'), 1, 'the callee’s 487 was acknowledged');
      const cdr = await closedCdr(fx, callId);
      t.equal(cdr?.disposition, 'no_answer', 'the CDR says no answer');
      t.equal(cdr?.answered_at, null, 'never answered');
    },
  );

  await t.test('the callee answers 486: the caller gets 486, the CDR says busy', async (t) => {
    const uas = await registeredCallee(t, {
      registrar,
      user: '1002',
      password: fx.passwords['1002'] ?? '',
      scenario: 'uas-busy.xml',
      timeoutMs: 8_000,
    });
    const bindings = await fx.node.registrar.lookup(`sip:1002@${DOMAIN}`);
    t.equal(bindings.length, 1, 'the previous test’s callee unregistered: one live contact');
    const { result, callId } = await caller('uac-busy.xml', '1002', 'busy');
    const callee = await uas.done;
    sippPassed(t, result, 'caller');
    sippPassed(t, callee, 'callee');
    t.equal(countOf(result, 'received', '486'), 1, 'the caller got 486 Busy Here');
    t.equal(countOf(callee, 'received', 'ACK'), 1, 'the proxy acknowledged the 486');
    t.equal((await closedCdr(fx, callId))?.disposition, 'busy', 'the CDR says busy');
  });

  await t.test(
    'no answer: 1002 rings out after its ring time and the call goes on to 1003 (forward on no answer)',
    async (t) => {
      await addUser(fx, '1003', 'password-1003');
      await updateUser(fx, '1002', {
        ring_timeout_sec: 5,
        fwd_noanswer_dest_kind: 'user',
        fwd_noanswer_dest_id: await userId(fx, '1003'),
      });
      const ringing = await registeredCallee(t, {
        registrar,
        user: '1002',
        password: fx.passwords['1002'] ?? '',
        scenario: 'uas-ring-cancel.xml',
        timeoutMs: 12_000,
      });
      const forwarded = await registeredCallee(t, {
        registrar,
        user: '1003',
        password: 'password-1003',
        scenario: 'uas-answer.xml',
        timeoutMs: 12_000,
      });
      const { result, callId } = await caller('uac-call.xml', '1002', 'noanswer', 12_000);
      const [first, second] = await Promise.all([ringing.done, forwarded.done]);
      sippPassed(t, result, 'caller');
      sippPassed(t, first, '1002 (rings, then is cancelled)');
      sippPassed(t, second, '1003 (answers)');
      t.equal(
        countOf(first, 'received', 'CANCEL'),
        1,
        'the proxy cancelled 1002 after the ring time',
      );
      t.equal(countOf(second, 'received', 'INVITE'), 1, '1003 got the call');
      t.equal(countOf(second, 'received', 'BYE'), 1, 'and the caller’s BYE');
      t.equal(
        countOf(result, 'sent', 'BYE'),
        1,
        'the caller hung up (its BYE answered 200: exit code 0)',
      );
      t.equal((await closedCdr(fx, callId))?.disposition, 'answered', 'the CDR says answered');
    },
  );

  await t.test(
    'a stale contact beside a busy one: the caller still gets 486 once the ring time is over',
    async (t) => {
      await addUser(fx, '1005', 'password-1005');
      await updateUser(fx, '1005', { ring_timeout_sec: 5 });
      // A phone that registered and went away without unregistering: nothing listens there.
      const stale = await registerSipp({
        registrar,
        user: '1005',
        password: 'password-1005',
        port: await freePort(),
      });
      sippPassed(t, stale, 'the stale phone registers');
      const uas = await registeredCallee(t, {
        registrar,
        user: '1005',
        password: 'password-1005',
        scenario: 'uas-busy.xml',
        timeoutMs: 12_000,
      });
      const { result, callId } = await caller('uac-busy.xml', '1005', 'stale-busy', 12_000);
      sippPassed(t, result, 'caller');
      sippPassed(t, await uas.done, 'callee');
      t.equal(countOf(result, 'received', '486'), 1, 'the caller got 486, not 480: nobody rang');
      t.equal((await closedCdr(fx, callId))?.disposition, 'busy', 'the CDR says busy');
    },
  );
});
