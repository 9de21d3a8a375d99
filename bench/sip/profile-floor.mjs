#!/usr/bin/env node
// The floor under the REGISTER benchmark: a UDP server that does only what every SIP server on
// Node must do per message (receive, parse with the stack's parser, build a response with
// createResponse, serialise, send) and nothing else: no transactions, no digest check, no
// registrar. Answers a REGISTER without Authorization with a fixed 401 challenge and one with
// Authorization with 200. `profile-register.mjs --floor` drives it with SIPp, to tell the cost of
// Switchboard's logic from the cost of Node's UDP path and the message layer.
//
//   node bench/sip/profile-floor.mjs --port 5080 [--host 127.0.0.1]
import { createSocket } from 'node:dgram';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const sip = await import(
  pathToFileURL(path.join(HERE, '..', '..', 'packages', 'sip-stack', 'dist', 'index.js')).href
);
const args = process.argv.slice(2);
const port = Number(args[args.indexOf('--port') + 1] ?? 0);
const host = args.includes('--host') ? args[args.indexOf('--host') + 1] : '127.0.0.1';
const CHALLENGE =
  'Digest realm="bench.test", nonce="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ' +
  'algorithm=MD5, qop="auth"';

const socket = createSocket('udp4');
socket.on('message', (bytes, rinfo) => {
  const r = sip.parseMessage(bytes);
  if (!r.ok || r.message.kind !== 'request') return;
  const req = r.message;
  const response = req.headers.has('Authorization')
    ? sip.createResponse(req, 200, undefined, {
        headers: { Contact: `${req.headers.get('Contact')};expires=3600` },
      })
    : sip.createResponse(req, 401, undefined, { headers: { 'WWW-Authenticate': CHALLENGE } });
  socket.send(response.toBuffer(), rinfo.port, rinfo.address);
});
socket.bind(port, host, () => console.log(`SIP listening on udp ${host}:${socket.address().port}`));
process.on('SIGTERM', () => socket.close(() => process.exit(0)));
