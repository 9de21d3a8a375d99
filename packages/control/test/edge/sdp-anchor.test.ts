import t from 'tap';
import { readSdpEndpoint, rewriteSdp } from '../../src/edge/sdp-anchor.js';

const offer =
  'v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n' +
  'm=audio 4000 RTP/AVP 0\r\na=rtcp:4001\r\nm=video 0 RTP/AVP 96\r\n';

t.test(
  'sdp: reads the first active stream, media-level c= over session-level (RFC 4566 §5.7)',
  (t) => {
    t.same(readSdpEndpoint(offer), {
      ok: true,
      endpoint: { address: '192.0.2.1', rtpPort: 4000, rtcpPort: 4001, rtcpMux: false },
      media: 0,
    });
    const media = offer.replace('a=rtcp:4001\r\n', 'c=IN IP4 198.51.100.9\r\na=rtcp-mux\r\n');
    t.match(readSdpEndpoint(media), {
      ok: true,
      endpoint: { address: '198.51.100.9', rtcpMux: true },
    });
    t.end();
  },
);

t.test('sdp: garbage, host names and disabled streams are refused without throwing', (t) => {
  t.match(readSdpEndpoint('hello'), { ok: false });
  t.match(readSdpEndpoint(''), { ok: false });
  t.match(readSdpEndpoint(offer.replace(/192\.0\.2\.1/g, 'host.example')), { ok: false });
  t.match(readSdpEndpoint(offer.replace('audio 4000', 'audio 0')), { ok: false });
  t.equal(
    rewriteSdp('v=0\r\n', { address: '10.0.0.1', rtpPort: 30000, rtcpPort: 30001 }),
    undefined,
  );
  t.end();
});

t.test('sdp: rewrite points the anchored stream at the relay side and keeps the others', (t) => {
  const out = rewriteSdp(offer, { address: '10.0.0.1', rtpPort: 30000, rtcpPort: 30001 });
  if (out === undefined) throw new Error('not rewritten');
  t.same(readSdpEndpoint(out), {
    ok: true,
    endpoint: { address: '10.0.0.1', rtpPort: 30000, rtcpPort: 30001, rtcpMux: false },
    media: 0,
  });
  t.match(out, /m=video 0 RTP\/AVP 96\r\nc=IN IP4 192\.0\.2\.1/);
  t.end();
});
