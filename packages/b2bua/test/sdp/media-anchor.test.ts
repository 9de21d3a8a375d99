import t from 'tap';
import { parse } from 'sdp-transform';
import { MediaAnchor } from '../../src/sdp/media-anchor.js';
import { parseSdp } from '../../src/sdp/parse-sdp.js';
import { FakeMediaRelay } from '../support/fake-media-relay.js';
import { ANSWER_B, OFFER_A, audioSdp } from '../support/sdp-samples.js';

function anchor(relay = new FakeMediaRelay(), codecs?: { allow?: string[]; deny?: string[] }) {
  return new MediaAnchor({ relay, ...(codecs === undefined ? {} : { codecs }) });
}

function mustOk(r: { ok: boolean; sdp?: string; reason?: string }): string {
  if (!r.ok || r.sdp === undefined) throw new Error(`expected ok, got ${r.reason}`);
  return r.sdp;
}

t.test(
  'an offer from A goes to B with the relay side-B address and ports, nothing of A',
  async (t) => {
    const relay = new FakeMediaRelay();
    const media = anchor(relay);
    const out = mustOk(await media.offer('a', OFFER_A));
    const sdp = parse(out);
    const session = relay.sessions[0];
    t.ok(session, 'one relay session for the one stream');
    t.equal(sdp.connection?.ip, relay.address);
    t.equal(sdp.origin?.address, relay.address);
    t.equal(sdp.origin?.username, 'switchboard');
    t.equal(sdp.media[0]?.port, session?.side('b').rtpPort);
    t.equal(sdp.media[0]?.rtcp?.port, session?.side('b').rtcpPort);
    t.notOk(out.includes('192.0.2.1'), "no trace of A's address");
    t.same(relay.remotesOf('a'), [{ address: '192.0.2.1', rtpPort: 4000 }]);
    t.equal(media.pendingFrom, 'a');
  },
);

t.test(
  'the answer from B goes to A with the side-A ports and B is given to the relay',
  async (t) => {
    const relay = new FakeMediaRelay();
    const media = anchor(relay);
    mustOk(await media.offer('a', OFFER_A));
    const out = mustOk(media.answer('b', ANSWER_B));
    const sdp = parse(out);
    t.equal(sdp.media[0]?.port, relay.sessions[0]?.side('a').rtpPort);
    t.equal(sdp.media[0]?.payloads, '0 101', 'the answer keeps its codecs');
    t.notOk(out.includes('198.51.100.2'));
    t.same(relay.remotesOf('b'), [{ address: '198.51.100.2', rtpPort: 5000 }]);
    t.equal(media.pendingFrom, undefined, 'the exchange is complete');
  },
);

t.test('a provisional answer (183) keeps the offer open for the final one', async (t) => {
  const relay = new FakeMediaRelay();
  const media = anchor(relay);
  mustOk(await media.offer('a', OFFER_A));
  mustOk(media.answer('b', ANSWER_B, true));
  t.equal(media.pendingFrom, 'a');
  const final = audioSdp({ address: '198.51.100.3', port: 5002, formats: '8' });
  mustOk(media.answer('b', final));
  t.same(
    relay.remotesOf('b').map((r) => r.address),
    ['198.51.100.2', '198.51.100.3'],
  );
});

t.test('the o= version grows only when the description changes (RFC 3264 §8)', async (t) => {
  const media = anchor();
  const first = parse(mustOk(await media.offer('a', OFFER_A)));
  mustOk(media.answer('b', ANSWER_B));
  const same = parse(mustOk(await media.offer('a', audioSdp({ version: 2 }))));
  mustOk(media.answer('b', ANSWER_B));
  t.equal(same.origin?.sessionVersion, first.origin?.sessionVersion, 'unchanged: same version');
  t.equal(same.origin?.sessionId, first.origin?.sessionId);
  const held = parse(mustOk(await media.offer('a', audioSdp({ direction: 'sendonly' }))));
  t.equal(held.origin?.sessionVersion, Number(first.origin?.sessionVersion) + 1);
});

t.test('hold: sendonly, recvonly and inactive pass through unchanged', async (t) => {
  for (const direction of ['sendonly', 'recvonly', 'inactive']) {
    const media = anchor();
    const out = parse(mustOk(await media.offer('a', audioSdp({ direction }))));
    t.equal(out.media[0]?.direction, direction, direction);
  }
});

t.test(
  'legacy hold c=0.0.0.0 becomes sendonly with the relay address; the relay keeps the old remote',
  async (t) => {
    const relay = new FakeMediaRelay();
    const media = anchor(relay);
    mustOk(await media.offer('a', OFFER_A));
    mustOk(media.answer('b', ANSWER_B));
    const hold = mustOk(await media.offer('a', audioSdp({ address: '0.0.0.0' })));
    const sdp = parse(hold);
    t.equal(sdp.media[0]?.direction, 'sendonly');
    t.equal(sdp.connection?.ip, relay.address, 'no 0.0.0.0 toward B');
    t.equal(relay.remotesOf('a').length, 1, 'no setRemote with 0.0.0.0');
    const recvonlyHold = anchor();
    const out = parse(
      mustOk(
        await recvonlyHold.offer('a', audioSdp({ address: '0.0.0.0', direction: 'recvonly' })),
      ),
    );
    t.equal(out.media[0]?.direction, 'inactive', 'recvonly + 0.0.0.0 is inactive');
  },
);

t.test('codec policy removes formats; nothing left answers 488', async (t) => {
  const relay = new FakeMediaRelay();
  const media = anchor(relay, { allow: ['PCMA'] });
  const out = parse(mustOk(await media.offer('a', OFFER_A)));
  t.equal(out.media[0]?.payloads, '8 101', 'PCMU removed, DTMF kept');
  t.same(
    out.media[0]?.rtp.map((r) => r.codec),
    ['PCMA', 'telephone-event'],
  );
  const g729 = anchor(relay, { allow: ['G729'] });
  const none = await g729.offer('a', OFFER_A);
  t.match(none, { ok: false, status: 488 });
  t.equal(relay.openSessions, 1, 'the refused offer leaves no relay session');
});

t.test('an offer that does not parse gets 400 and opens no session', async (t) => {
  const relay = new FakeMediaRelay();
  const media = anchor(relay);
  for (const bad of [
    'hello',
    'v=0\r\nm=audio x RTP/AVP 0\r\n',
    audioSdp({ address: 'pbx.example' }),
  ]) {
    const r = await media.offer('a', bad);
    t.match(r, { ok: false, status: 400 }, JSON.stringify(bad.slice(0, 30)));
  }
  t.equal(relay.sessions.length, 0);
});

t.test('an answer with another number of streams or no offered codec is refused', async (t) => {
  const media = anchor();
  mustOk(await media.offer('a', OFFER_A));
  const twoStreams = `${ANSWER_B}m=video 5002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n`;
  t.match(media.answer('b', twoStreams), { ok: false, status: 488 });
  t.match(media.answer('b', audioSdp({ formats: '18' })), { ok: false, status: 488 });
  t.match(media.answer('b', 'garbage'), { ok: false, status: 488 });
});

t.test('rollback closes sessions of the failed offer and restores the old remote', async (t) => {
  const relay = new FakeMediaRelay();
  const media = anchor(relay);
  mustOk(await media.offer('a', OFFER_A));
  mustOk(media.answer('b', ANSWER_B));
  const moved = `${audioSdp({ address: '192.0.2.9', port: 4100 })}m=video 4102 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n`;
  mustOk(await media.offer('a', moved));
  t.equal(relay.openSessions, 2, 'the video stream got a session');
  media.rollback();
  t.equal(relay.openSessions, 1, 'video session closed');
  t.same(relay.remotesOf('a').at(-1), { address: '192.0.2.1', rtpPort: 4000 });
  t.equal(media.pendingFrom, undefined);
});

t.test('a second offer while one is pending gets 491', async (t) => {
  const media = anchor();
  mustOk(await media.offer('a', OFFER_A));
  t.match(await media.offer('b', ANSWER_B), { ok: false, status: 491 });
});

t.test('a stream answered with port 0 frees its relay ports', async (t) => {
  const relay = new FakeMediaRelay();
  const media = anchor(relay);
  const offer = `${OFFER_A}m=video 4002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n`;
  mustOk(await media.offer('a', offer));
  t.equal(relay.openSessions, 2);
  const answer = parse(mustOk(media.answer('b', `${ANSWER_B}m=video 0 RTP/AVP 96\r\n`)));
  t.equal(answer.media[1]?.port, 0);
  t.equal(relay.openSessions, 1);
  media.close();
  t.equal(relay.openSessions, 0);
});

t.test('relay without ports: 503 and nothing left open', async (t) => {
  const relay = new FakeMediaRelay();
  relay.capacity = 0;
  t.match(await anchor(relay).offer('a', OFFER_A), { ok: false, status: 503 });
});

t.test('ICE candidates and BUNDLE are not passed on', async (t) => {
  const offer = audioSdp({
    extra: [
      'a=ice-ufrag:abcd',
      'a=ice-pwd:0123456789abcdefghijkl',
      'a=candidate:1 1 UDP 2130706431 10.0.0.5 4000 typ host',
    ],
  });
  const out = mustOk(await anchor().offer('a', `${offer}`));
  t.notOk(out.includes('candidate'));
  t.notOk(out.includes('10.0.0.5'));
  t.notOk(out.includes('ice-ufrag'));
});

t.test('parseSdp accepts a valid description and names what is wrong in others', (t) => {
  t.ok(parseSdp(OFFER_A).ok);
  t.match(parseSdp(OFFER_A.replace(/^o=.*\r\n/m, '')), { ok: false, reason: /o= line/ });
  t.match(parseSdp(OFFER_A.replace(/^c=.*\r\n/m, '')), { ok: false, reason: /connection/ });
  t.match(parseSdp('v=0\r\n'), { ok: false, reason: /m= line/ });
  t.end();
});

t.test(
  'parseSdp reads LF-only lines and blank lines; v=0 must be the first line with text',
  (t) => {
    const lf = OFFER_A.replace(/\r\n/g, '\n');
    t.ok(parseSdp(lf).ok, 'LF line ends');
    t.ok(parseSdp(`\r\n\n${OFFER_A.replace('s=-\r\n', 's=-\r\n\r\n')}`).ok, 'blank lines');
    t.match(parseSdp(`s=-\r\n${OFFER_A}`), { ok: false, reason: /start with v=0/ });
    t.match(parseSdp(OFFER_A.replace('m=audio 4000', 'm=audio x')), {
      ok: false,
      reason: 'bad media line: m=audio x RTP/AVP 0 8 101',
    });
    t.match(parseSdp(`${OFFER_A}m=video\r`), { ok: false, reason: 'bad media line: m=video\r' });
    t.end();
  },
);

t.test('reoffer repeats the last description sent to a side, same version', async (t) => {
  const media = anchor();
  mustOk(await media.offer('a', OFFER_A));
  const toA = mustOk(media.answer('b', ANSWER_B));
  const again = mustOk(media.reoffer('a'));
  t.equal(parse(again).origin?.sessionVersion, parse(toA).origin?.sessionVersion);
  t.equal(media.pendingFrom, 'b', 'on behalf of B');
  mustOk(media.answer('a', OFFER_A));
});

t.test(
  'a rewritten description is sent exactly as its remembered description writes out (IPv4 and IPv6 relay)',
  async (t) => {
    for (const address of ['203.0.113.10', '2001:db8::10']) {
      const media = anchor(new FakeMediaRelay(address));
      const offer = mustOk(await media.offer('a', OFFER_A));
      t.equal(offer, media.lastSentTo('b'), `offer via ${address}`);
      t.match(
        offer,
        new RegExp(`^o=switchboard \\d+ \\d+ IN IP${address.includes(':') ? 6 : 4} `, 'm'),
      );
      const answer = mustOk(media.answer('b', ANSWER_B));
      t.equal(answer, media.lastSentTo('a'), `answer via ${address}`);
      t.notMatch(answer, /^o=\S+ \d+ 0 /m, 'the o= version is not left at 0');
    }
  },
);
