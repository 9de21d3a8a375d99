// rtpengine's ng control protocol: "<cookie> <bencoded dict>" over UDP, reply "<cookie> <dict>".
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';

export function bencode(value) {
  if (typeof value === 'number') return Buffer.from(`i${Math.trunc(value)}e`);
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    const b = Buffer.isBuffer(value) ? value : Buffer.from(value);
    return Buffer.concat([Buffer.from(`${b.length}:`), b]);
  }
  if (Array.isArray(value)) {
    return Buffer.concat([Buffer.from('l'), ...value.map(bencode), Buffer.from('e')]);
  }
  const keys = Object.keys(value).sort();
  const parts = keys.flatMap((k) => [bencode(k), bencode(value[k])]);
  return Buffer.concat([Buffer.from('d'), ...parts, Buffer.from('e')]);
}

/** Decodes one value at `at`; returns [value, next offset]. Strings come back as JS strings. */
export function bdecode(buf, at = 0) {
  const c = String.fromCharCode(buf[at]);
  if (c === 'i') {
    const end = buf.indexOf(0x65, at);
    return [Number(buf.subarray(at + 1, end).toString()), end + 1];
  }
  if (c === 'l' || c === 'd') {
    const items = [];
    let p = at + 1;
    while (buf[p] !== 0x65) {
      if (p >= buf.length) throw new Error('truncated bencode');
      const [v, next] = bdecode(buf, p);
      items.push(v);
      p = next;
    }
    if (c === 'l') return [items, p + 1];
    const obj = {};
    for (let i = 0; i + 1 < items.length; i += 2) obj[items[i]] = items[i + 1];
    return [obj, p + 1];
  }
  const colon = buf.indexOf(0x3a, at);
  if (colon < 0) throw new Error('bad bencode');
  const len = Number(buf.subarray(at, colon).toString());
  return [buf.subarray(colon + 1, colon + 1 + len).toString(), colon + 1 + len];
}

export class NgClient {
  #sock = dgram.createSocket('udp4');
  #pending = new Map();
  #host;
  #port;

  constructor(host, port) {
    this.#host = host;
    this.#port = port;
    this.#sock.on('message', (msg) => {
      const space = msg.indexOf(0x20);
      const cookie = msg.subarray(0, space).toString();
      const p = this.#pending.get(cookie);
      if (!p) return;
      this.#pending.delete(cookie);
      clearTimeout(p.timer);
      try {
        p.resolve(bdecode(msg, space + 1)[0]);
      } catch (e) {
        p.reject(e);
      }
    });
  }

  /** Sends one command; retries twice on timeout (UDP). */
  async command(dict, timeoutMs = 2000) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#once(dict, timeoutMs);
      } catch (e) {
        if (attempt >= 2) throw e;
      }
    }
  }

  #once(dict, timeoutMs) {
    const cookie = randomBytes(6).toString('hex');
    const payload = Buffer.concat([Buffer.from(`${cookie} `), bencode(dict)]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(cookie);
        reject(new Error(`ng ${dict.command} timed out`));
      }, timeoutMs);
      this.#pending.set(cookie, { resolve, reject, timer });
      this.#sock.send(payload, this.#port, this.#host);
    });
  }

  close() {
    this.#sock.close();
  }
}

export function sdp(ip, port, sessionId) {
  return [
    'v=0',
    `o=- ${sessionId} 1 IN IP4 ${ip}`,
    's=-',
    `c=IN IP4 ${ip}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtcp-mux',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** The media port of the first m= line. */
export function sdpPort(text) {
  const m = /^m=audio (\d+) /m.exec(text ?? '');
  if (!m) throw new Error(`no audio port in SDP: ${text}`);
  return Number(m[1]);
}

/** offer (A's address) + answer (B's address); returns [port A sends to, port B sends to]. */
export async function rtpengineCall(ng, callId, a, b) {
  const offer = await ng.command({
    command: 'offer',
    'call-id': callId,
    'from-tag': 'a',
    sdp: sdp(a.ip, a.port, 1),
    replace: ['origin', 'session-connection'],
    ICE: 'remove',
    'rtcp-mux': ['require'],
  });
  if (offer.result !== 'ok') throw new Error(`offer: ${offer['error-reason'] ?? offer.result}`);
  const answer = await ng.command({
    command: 'answer',
    'call-id': callId,
    'from-tag': 'a',
    'to-tag': 'b',
    sdp: sdp(b.ip, b.port, 2),
    replace: ['origin', 'session-connection'],
    ICE: 'remove',
    'rtcp-mux': ['require'],
  });
  if (answer.result !== 'ok') throw new Error(`answer: ${answer['error-reason'] ?? answer.result}`);
  return [sdpPort(answer.sdp), sdpPort(offer.sdp)];
}
