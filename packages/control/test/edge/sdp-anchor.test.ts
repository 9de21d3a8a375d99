import t from 'tap';
import { anchorSdp, readSdpEndpoint, rewriteSdp } from '../../src/edge/sdp-anchor.js';

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

t.test(
  'sdp: anchorSdp reads the endpoint and rewrites in one pass, leaving the other lines as they came',
  (t) => {
    const webrtc =
      'v=0\no=- 7 2 IN IP4 192.0.2.7\ns=-\nt=0 0\na=group:BUNDLE 0\n' +
      'm=audio 5004 RTP/SAVPF 111 0\nc=IN IP4 192.0.2.7\na=rtcp:5005\na=rtcp-mux\n' +
      'a=rtpmap:111 opus/48000/2\na=fmtp:111 minptime=10\na=sendrecv\n';
    const r = anchorSdp(webrtc, { address: '10.0.0.1', rtpPort: 30000, rtcpPort: 30001 });
    if (!r.ok) throw new Error(r.reason);
    t.same(r.endpoint, { address: '192.0.2.7', rtpPort: 5004, rtcpPort: 5005, rtcpMux: true });
    t.equal(
      r.text,
      'v=0\r\no=- 7 2 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\na=group:BUNDLE 0\r\n' +
        'm=audio 30000 RTP/SAVPF 111 0\r\nc=IN IP4 10.0.0.1\r\na=rtcp-mux\r\n' +
        'a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10\r\na=sendrecv\r\n',
      'session c= added before t=, rtcp-mux drops a=rtcp (RFC 5761), CRLF line ends',
    );
    t.same(rewriteSdp(webrtc, { address: '10.0.0.1', rtpPort: 30000, rtcpPort: 30001 }), r.text);
    t.end();
  },
);

t.test('sdp: anchorSdp refuses what readSdpEndpoint refuses, with its reason', (t) => {
  t.same(anchorSdp('hello', { address: '10.0.0.1', rtpPort: 1, rtcpPort: undefined }), {
    ok: false,
    reason: 'not a session description',
  });
  const named = offer.replace(/192\.0\.2\.1/g, 'host.example');
  t.same(anchorSdp(named, { address: '10.0.0.1', rtpPort: 1, rtcpPort: undefined }), {
    ok: false,
    reason: 'connection address is not an IP literal',
  });
  t.end();
});
