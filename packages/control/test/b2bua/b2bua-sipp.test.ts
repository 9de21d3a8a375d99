/**
 * SIPp through the real server's B2BUA: a carrier that challenges (407 or 401), sends early
 * media, answers and re-INVITEs mid-call; and a carrier that transfers the caller (REFER).
 */
import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import type { TransferEvent } from '@switchboard/b2bua';
import { closedCdr, startE2eServer, type E2eServer } from '../e2e/support/e2e-server.js';
import { freePort } from '../e2e/support/free-port.js';
import { countOf, type SippResult } from '../e2e/support/sipp.js';
import { callIdPrefix, callSipp, sippPassed, startCallee } from '../e2e/support/sipp-peers.js';
import { portRange } from './support/call-scene.js';

const PREFIX = '1555';
const NUMBER = `${PREFIX}7654321`;
const SCENARIOS = '../../b2bua/scenarios';
const TRUNK_USER = 'acme-trunk';
const TRUNK_PASSWORD = 'trunk-secret-7';

interface Fixture {
  fx: E2eServer;
  rtp: { min: number; max: number };
}

async function server(t: Test, flags: Record<string, string> = {}): Promise<Fixture> {
  const rtp = portRange(200);
  const fx = await startE2eServer({
    flags: { '--rtp-min': String(rtp.min), '--rtp-max': String(rtp.max), ...flags },
  });
  t.teardown(() => fx.close());
  return { fx, rtp };
}

async function trunkTo(fx: E2eServer, port: number, auth: boolean): Promise<void> {
  const store = fx.server.store;
  const trunk = await store.table('sip_trunk').create({
    account_id: fx.accountId,
    name: `sipp carrier ${port}`,
    proxy_host: '127.0.0.1',
    proxy_port: port,
    transport: 'udp',
    ...(auth ? { auth_username: TRUNK_USER, auth_password: TRUNK_PASSWORD } : {}),
  });
  if (!trunk.ok) throw new Error(trunk.error.message);
  const route = await store.table('outbound_route').create({
    account_id: fx.accountId,
    name: 'to sipp',
    prefix: PREFIX,
    trunks: [{ trunk_id: String(trunk.value.row['id']) }],
  });
  if (!route.ok) throw new Error(route.error.message);
}

/** The nth message of a SIPp trace that starts with `start` (a status line or a method). */
function message(r: SippResult, direction: 'sent' | 'received', start: string, nth = 1): string {
  let seen = 0;
  for (const block of r.messages.split(/^-{20,}.*$/m)) {
    const m = /^\s*(?:UDP|TCP) message (\w+)[^\n]*\n\s*\n([\s\S]*)$/.exec(block);
    if (m?.[1] === direction && (m[2] ?? '').startsWith(start) && ++seen === nth) return m[2] ?? '';
  }
  return '';
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** RFC 2617 §3.2.2 (no qop): the INVITE's digest was made with the trunk's password. */
function digestAnswers(invite: string, header: string): boolean {
  const line = new RegExp(`^${header}: Digest (.*)$`, 'm').exec(invite)?.[1] ?? '';
  const p: Record<string, string> = {};
  for (const m of line.matchAll(/(\w+)="?([^",]*)"?/g)) p[m[1] ?? ''] = m[2] ?? '';
  if (p['username'] !== TRUNK_USER) return false;
  const ha1 = md5(`${TRUNK_USER}:${p['realm'] ?? ''}:${TRUNK_PASSWORD}`);
  const ha2 = md5(`INVITE:${p['uri'] ?? ''}`);
  return p['response'] === md5(`${ha1}:${p['nonce'] ?? ''}:${ha2}`);
}

async function noLeaks(t: Test, fx: E2eServer): Promise<void> {
  t.equal(fx.node.calls.size, 0, 'no call left on the edge');
  t.equal(fx.node.gateway?.b2bua.stats().active, 0, 'no B2BUA call left');
  t.equal(fx.server.edge?.relay?.info().sessions, 0, 'no relay session left');
  const cac = await fx.server.brain.cacStatus(fx.accountId);
  t.equal(cac.accounts[0]?.reservations ?? 0, 0, 'admission released');
}

const challenges = [{ code: '407' }, { code: '401' }] as const;

for (const c of challenges) {
  t.test(
    `trunk: a carrier challenging with ${c.code}, then 183 with SDP, 200 and a re-INVITE: our credentials answer, the caller sees relay SDP, topology stays hidden, the call ends cleanly`,
    async (t) => {
      const { fx, rtp } = await server(t);
      const carrierPort = await freePort();
      await trunkTo(fx, carrierPort, true);
      const carrier = await startCallee(t, {
        scenario: `${SCENARIOS}/carrier-challenge-${c.code}.xml`,
        port: carrierPort,
        timeoutMs: 15_000,
        ...(c.code === '401' ? { vars: { user: TRUNK_USER, password: TRUNK_PASSWORD } } : {}),
      });
      const callerPort = await freePort();
      const callId = callIdPrefix('b2bua-trunk');
      const caller = await callSipp({
        scenario: `${SCENARIOS}/caller-reinvite.xml`,
        proxy: `127.0.0.1:${fx.ports.udp}`,
        port: callerPort,
        user: '1001',
        password: fx.passwords['1001'] ?? '',
        callee: NUMBER,
        callId,
        timeoutMs: 12_000,
      });
      const far = await carrier.done;
      sippPassed(t, caller, 'caller');
      sippPassed(t, far, 'carrier');

      const header = c.code === '407' ? 'Proxy-Authorization' : 'Authorization';
      const retried = message(far, 'received', 'INVITE ', 2);
      t.ok(digestAnswers(retried, header), `${header} carries the trunk's correct digest`);
      t.notOk(
        caller.messages.includes('carrier.test'),
        'the caller never saw the carrier challenge',
      );

      const early = message(caller, 'received', 'SIP/2.0 183');
      const port = Number(/m=audio (\d+)/.exec(early)?.[1] ?? 0);
      t.ok(port >= rtp.min && port <= rtp.max, `183 SDP names a relay port (${port})`);
      t.not(port, carrierPort + 2, 'not the carrier’s media port');
      const answer = message(caller, 'received', 'SIP/2.0 200');
      t.match(answer, /m=audio (\d+)/, 'the 200 carries SDP');
      t.notMatch(answer, /o=carrier/, 'the carrier’s SDP origin is not passed on');

      const seen = far.messages;
      t.notOk(seen.includes(callId), 'the carrier never saw the caller’s Call-ID');
      t.notOk(seen.includes(`127.0.0.1:${callerPort}`), 'nor its Via or Contact');
      t.notOk(seen.includes(`1001@127.0.0.1`), 'nor its Contact user');
      t.equal(countOf(caller, 'received', 'INVITE'), 1, 'the caller got the relayed re-INVITE');
      t.equal(countOf(far, 'received', 'BYE'), 1, 'the carrier got the caller’s hang-up');

      const cdr = await closedCdr(fx, `${callId}1`);
      t.equal(cdr?.disposition, 'answered', 'CDR answered');
      await noLeaks(t, fx);
    },
  );
}

t.test(
  'transfer (transfers from trunks allowed): the carrier REFERs the caller blind; it gets NOTIFY sipfrag up to 200, a new leg goes to the target, and the caller’s BYE reaches the target',
  async (t) => {
    const { fx } = await server(t, { '--sip-transfers-from-trunks': 'on' });
    const carrierPort = await freePort();
    const targetPort = await freePort();
    await trunkTo(fx, carrierPort, false);
    const transfers: TransferEvent[] = [];
    fx.node.gateway?.b2bua.on('call', (call) => call.on('transferred', (e) => transfers.push(e)));
    const target = await startCallee(t, {
      scenario: 'uas-answer.xml',
      port: targetPort,
      timeoutMs: 15_000,
    });
    const carrier = await startCallee(t, {
      scenario: `${SCENARIOS}/carrier-transfer.xml`,
      port: carrierPort,
      timeoutMs: 15_000,
      vars: { target: `sip:transfer@127.0.0.1:${targetPort}` },
    });
    const callId = callIdPrefix('b2bua-refer');
    const caller = await callSipp({
      scenario: `${SCENARIOS}/caller-transfer.xml`,
      proxy: `127.0.0.1:${fx.ports.udp}`,
      port: await freePort(),
      user: '1001',
      password: fx.passwords['1001'] ?? '',
      callee: NUMBER,
      callId,
      timeoutMs: 12_000,
    });
    const [far, moved] = await Promise.all([carrier.done, target.done]);
    sippPassed(t, caller, 'caller');
    sippPassed(t, far, 'carrier (transferor)');
    sippPassed(t, moved, 'transfer target');

    t.equal(countOf(far, 'received', '202'), 1, 'the REFER was accepted (202)');
    t.match(far.messages, /Content-Type: message\/sipfrag/i, 'NOTIFY carries message/sipfrag');
    t.match(far.messages, /Event: refer/i, 'for the refer event');
    t.match(
      far.messages,
      /SIP\/2\.0 200 OK\r?\n[^]*Subscription-State: terminated|Subscription-State: terminated[^]*SIP\/2\.0 200 OK/,
      'the final NOTIFY says 200 OK',
    );
    const invite = message(moved, 'received', 'INVITE');
    t.match(invite, /Referred-By: <sip:carrier@/, 'the target’s INVITE says who referred');
    t.notOk(moved.messages.includes(callId), 'the target never saw the caller’s Call-ID');
    t.equal(countOf(moved, 'received', 'BYE'), 1, 'the caller’s BYE reached the target');
    t.equal(countOf(caller, 'received', 'INVITE'), 0, 'the caller was not re-invited');
    t.same(
      transfers.map((e) => e.status),
      [200],
      'one transfer, completed',
    );

    const cdr = await closedCdr(fx, `${callId}1`);
    t.equal(cdr?.disposition, 'answered', 'CDR answered');
    await noLeaks(t, fx);
  },
);

t.test(
  'transfer from a trunk refused by default: the carrier’s REFER gets 403, nobody else is called, the call goes on',
  async (t) => {
    const { fx } = await server(t);
    const carrierPort = await freePort();
    await trunkTo(fx, carrierPort, false);
    const transfers: TransferEvent[] = [];
    fx.node.gateway?.b2bua.on('call', (call) => call.on('transferred', (e) => transfers.push(e)));
    const carrier = await startCallee(t, {
      scenario: `${SCENARIOS}/carrier-transfer-refused.xml`,
      port: carrierPort,
      timeoutMs: 15_000,
      vars: { target: `sip:premium@127.0.0.1:${await freePort()}` },
    });
    const callId = callIdPrefix('b2bua-refer-refused');
    const caller = await callSipp({
      scenario: `${SCENARIOS}/caller-transfer.xml`,
      proxy: `127.0.0.1:${fx.ports.udp}`,
      port: await freePort(),
      user: '1001',
      password: fx.passwords['1001'] ?? '',
      callee: NUMBER,
      callId,
      timeoutMs: 12_000,
    });
    const far = await carrier.done;
    sippPassed(t, caller, 'caller');
    sippPassed(t, far, 'carrier');
    t.equal(countOf(far, 'received', '403'), 1, 'the REFER was refused (403)');
    t.equal(countOf(far, 'received', 'NOTIFY'), 0, 'no transfer progress');
    t.same(transfers, [], 'no transfer was attempted');
    const cdr = await closedCdr(fx, `${callId}1`);
    t.equal(cdr?.disposition, 'answered', 'CDR answered');
    await noLeaks(t, fx);
  },
);
