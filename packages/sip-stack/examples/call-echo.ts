/**
 * A UAC in a few lines: ping the echo UAS, call it, send INFO, hang up. Run it against
 * examples/echo-uas.ts:
 *
 *   ECHO_URI=sip:echo@127.0.0.1:5060 npx tsx examples/call-echo.ts
 */
import { EndpointError, createEndpoint } from '@switchboard/sip-stack';

const target = process.env['ECHO_URI'] ?? 'sip:echo@127.0.0.1:5060';
const sdp = [
  'v=0',
  'o=caller 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 6000 RTP/AVP 0',
  '',
].join('\r\n');

const endpoint = await createEndpoint({
  listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }],
  userAgent: 'call-echo',
});

try {
  const ping = await endpoint.request({ method: 'OPTIONS', uri: target });
  console.log(`OPTIONS ${ping.status} (Allow: ${ping.headers.get('Allow') ?? '-'})`);

  const call = endpoint.invite({
    uri: target,
    from: '<sip:alice@example.test>',
    body: sdp,
    contentType: 'application/sdp',
    onProvisional: (r) => console.log(`INVITE ${r.status} ${r.reason}`),
  });
  const { dialog, response } = await call; // the ACK is already sent
  console.log(`INVITE ${response.status}, echoed SDP: ${response.body.toString() === sdp}`);

  const info = await dialog.request('INFO', { body: 'Signal=5', contentType: 'text/plain' });
  console.log(`INFO ${info.status} ${info.body.toString()}`);

  const bye = await dialog.bye();
  console.log(`BYE ${bye.status}`);
} catch (err) {
  // Failures carry a stable code (and the SIP status when a response caused them).
  if (err instanceof EndpointError) console.error(`failed: ${err.code} ${err.status ?? ''}`);
  process.exitCode = 1;
} finally {
  await endpoint.close();
}
