/**
 * Echo UAS: answers OPTIONS, answers every INVITE (180, then 200 with the caller's own SDP back),
 * echoes INFO and MESSAGE bodies, and logs hang-ups. Run it:
 *
 *   npx tsx examples/echo-uas.ts            # UDP and TCP on 127.0.0.1:5060
 *   SIP_PORT=0 npx tsx examples/echo-uas.ts # ephemeral ports
 */
import { createEndpoint } from '@switchboard/sip-stack';

const host = process.env['SIP_HOST'] ?? '127.0.0.1';
const port = Number(process.env['SIP_PORT'] ?? '5060');

const endpoint = await createEndpoint({
  listen: [
    { protocol: 'udp', address: host, port },
    { protocol: 'tcp', address: host, port },
  ],
  userAgent: 'echo-uas',
});

// Out-of-dialog MESSAGE: echo the body.
endpoint.onRequest('MESSAGE', (req) => {
  req.respond(200, { body: req.request.body, contentType: 'text/plain' });
});

endpoint.onRequest('INVITE', (req) => {
  req.progress(180);
  // Answer with the caller's own session description: media is echoed to where it came from.
  const dialog = req.accept({ body: req.request.body, contentType: 'application/sdp' });
  dialog.onRequest('INFO', (info) => {
    info.respond(200, { body: info.request.body, contentType: 'text/plain' });
  });
  dialog.on('ack', () => console.log(`call ${dialog.callId} answered`));
  dialog.on('terminated', (reason) => console.log(`call ${dialog.callId} ended: ${reason}`));
});

for (const lp of endpoint.listeningPoints()) {
  console.log(`listening ${lp.protocol} ${lp.local.address} ${lp.local.port}`);
}

const stop = (): void => void endpoint.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
