#!/usr/bin/env node
// The REGISTER path of one edge node in process, without sockets: REGISTER → 401, REGISTER with
// Authorization → 200, for `count` exchanges over a seeded data directory (the same users as the
// SIPp benchmark), `window` exchanges in flight. Requests go straight into the node's transaction
// layer and responses are taken from its transport's send(), so the numbers are the node's JS
// work alone (plus this driver's, measured apart): CPU µs per exchange and heap per exchange
// while the completed transactions wait out Timer J. Deterministic enough to compare changes on a
// busy machine; run under `node --cpu-prof` for a profile.
//
//   npm run build && node --expose-gc bench/sip/profile-register-inproc.mjs [--count 20000]
//       [--users 10000] [--window 64] [--rounds 3] [--profile out.cpuprofile]
//
// --profile records a V8 CPU profile of the measured rounds only (after the warm-up); summarise
// it with profile-summary.mjs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { seedSwitchboard } from './targets.mjs';
import { loadUsers } from './users.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const pkg = (name) =>
  import(pathToFileURL(path.join(HERE, '..', '..', 'packages', name, 'dist', 'index.js')).href);
const sip = await pkg('sip-stack');
const control = await pkg('control');

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const count = opt('--count', 20000);
const window = opt('--window', 64);
const rounds = opt('--rounds', 3);
const nUsers = opt('--users', 10000);
const profileFile = args.includes('--profile') ? args[args.indexOf('--profile') + 1] : undefined;
const domain = 'bench.test';
const gc = globalThis.gc ?? (() => {});

const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-reg-inproc-'));
const users = loadUsers({ count: nUsers });
seedSwitchboard(path.join(dir, 'data'), users, domain);
const db = control.openDatabase({ dataDir: path.join(dir, 'data') });
const key = control.loadMasterKey(path.join(dir, 'data'));
if (!key.ok) throw key.error;
const store = new control.SqliteConfigStore({ db, masterKey: key.value });
const brain = new control.LocalBrain({ directory: store.directory });
const node = new control.EdgeNode(
  {
    listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }],
    media: { mode: 'never', address: '127.0.0.1', ports: { min: 40000, max: 40100 } },
    algorithms: ['MD5'],
  },
  { brain },
);
await node.start();
const local = node.listeningPoints()[0].local;
const remote = { address: '127.0.0.1', port: 5999 };
const flow = {
  protocol: 'udp',
  local,
  remote,
  flowId: `udp:${local.address}:${local.port}->127.0.0.1:5999`,
};

// Responses are taken here instead of going to a socket. Each waiter sits in a slot emptied when
// it is answered: a long-lived Map keeps the entries of the hash tables it outgrows until a full
// GC, which would promote the driver's resolve functions (and what they reach) and count the
// driver's garbage as the node's.
const waiting = new Map();
let driverUs = 0;
node.transport.send = (message) => {
  const slot = waiting.get(message.callId);
  if (slot !== undefined && message.kind === 'response' && message.status >= 200) {
    waiting.delete(message.callId);
    const w = slot.w;
    slot.w = undefined;
    w?.(message);
  }
  return Promise.resolve(flow);
};

const ha1 = new Map(
  users.map((u) => [u.username, sip.computeHa1('MD5', u.username, domain, u.password)]),
);

function request(i, user, cseq, authorization) {
  const lines = [
    `REGISTER sip:${domain} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-${i}-${cseq};rport`,
    'Max-Forwards: 70',
    `From: <sip:${user}@${domain}>;tag=4242SIPpTag0${i}`,
    `To: <sip:${user}@${domain}>`,
    `Call-ID: ${i}-4242@127.0.0.1`,
    `CSeq: ${cseq} REGISTER`,
    `Contact: <sip:${user}@127.0.0.1:5999>`,
    'Expires: 3600',
    ...(authorization === undefined ? [] : [`Authorization: ${authorization}`]),
    'User-Agent: SIPp bench',
    'Content-Length: 0',
    '',
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}

function deliver(bytes, callId) {
  const parsed = sip.parseMessage(bytes);
  if (!parsed.ok) throw new Error(parsed.error.reason);
  const answered = new Promise((resolve) => waiting.set(callId, { w: resolve }));
  // the transport stamps received/rport before delivery
  const via = parsed.message.topVia;
  via.received = remote.address;
  via.rport = remote.port;
  parsed.message.setTopVia(sip.formatVia(via));
  node.transactions.receive({ message: parsed.message, flow, receivedAt: 0 });
  return answered;
}

async function exchange(i) {
  const user = users[(i * 7919) % users.length].username;
  const callId = `${i}-4242@127.0.0.1`;
  const t1 = performance.now();
  const first = request(i, user, 1);
  driverUs += (performance.now() - t1) * 1000;
  const r1 = await deliver(first, callId);
  if (r1.status !== 401) throw new Error(`expected 401, got ${r1.status}`);
  const t0 = performance.now();
  const ch = sip.parseDigestChallenge(r1.headers.get('WWW-Authenticate'));
  if (!ch.ok) throw new Error(ch.reason);
  const c = ch.value;
  const cnonce = `c${i}`;
  const response = sip.computeDigestResponse({
    algorithm: 'MD5',
    ha1: ha1.get(user),
    nonce: c.nonce,
    cnonce,
    nc: '00000001',
    qop: 'auth',
    method: 'REGISTER',
    uri: `sip:${domain}`,
  });
  const auth =
    `Digest username="${user}",realm="${c.realm}",uri="sip:${domain}",nonce="${c.nonce}",` +
    `response="${response}",algorithm=MD5,cnonce="${cnonce}",qop=auth,nc=00000001` +
    (c.opaque === undefined ? '' : `,opaque="${c.opaque}"`);
  const bytes = request(i, user, 2, auth);
  driverUs += (performance.now() - t0) * 1000;
  const r2 = await deliver(bytes, callId);
  if (r2.status !== 200) throw new Error(`expected 200, got ${r2.status} ${r2.reason}`);
}

async function run(from, n) {
  let next = from;
  const worker = async () => {
    while (next < from + n) await exchange(next++);
  };
  await Promise.all(Array.from({ length: window }, worker));
}

const mem = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
// warm-up: JIT and every user's credentials cached
await run(0, Math.max(nUsers, 5000));
let base = 1_000_000;
const inspector = profileFile === undefined ? undefined : new Session();
if (inspector !== undefined) {
  inspector.connect();
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.start');
}
console.log(
  '| exchanges | CPU µs/exchange (node only) | driver µs | heap+external per exchange (tx in Completed) |',
);
console.log('| --- | --- | --- | --- |');
for (let r = 0; r < rounds; r++) {
  node.transactions.dispose();
  gc();
  const m0 = mem();
  driverUs = 0;
  const c0 = process.cpuUsage();
  await run(base, count);
  const c = process.cpuUsage(c0);
  gc();
  const m1 = mem();
  const total = c.user + c.system;
  console.log(
    `| ${count} | ${((total - driverUs) / count).toFixed(1)} | ${(driverUs / count).toFixed(1)} | ${((m1 - m0) / count).toFixed(0)} B |`,
  );
  base += count;
}
if (inspector !== undefined) {
  const { profile } = await inspector.post('Profiler.stop');
  writeFileSync(profileFile, JSON.stringify(profile));
  console.log(`profile: ${profileFile}`);
}
node.transactions.dispose();
await node.stop();
await brain.close();
db.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
