// The parsers compared by bench/parser/run.mjs, each behind the same three operations:
//   route(buf)      parse from bytes to the point a proxy can route: top Via branch, Call-ID, CSeq,
//                   Max-Forwards, parsed Request-URI and Route set, To tag
//   serialize(msg)  bytes of an already parsed message, as it would be sent
//   forward(buf)    route(), then what a proxy does to a request (push a Via, decrement
//                   Max-Forwards) or a response (pop the top Via), then serialize
// Every operation starts from a Buffer (what a socket delivers) and ends with a Buffer.

const PROXY_VIA = 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.bench.1';

/**
 * What a proxy reads to route, as one fixed-shape object for every parser. (Adding properties
 * after an object spread costs ~0.75 µs each on Node 20: that would measure V8, not the parsers.)
 */
function routed(branch, callId, cseq, toTag, maxForwards, ruriHost, routes, m) {
  return { branch, callId, cseq, toTag, maxForwards, ruriHost, routes, m };
}

async function ours() {
  const { parseMessage } = await import('../../packages/sip-stack/dist/index.js');
  const uriHost = (u) => u.host;
  const parse = (buf) => {
    const r = parseMessage(buf);
    if (!r.ok) throw new Error(`ours rejected the message: ${r.error.reason}`);
    return r.message;
  };
  const route = (buf) => {
    const m = parse(buf);
    const v = m.topVia;
    if (m.kind === 'response')
      return routed(v?.branch, m.callId, m.cseq.seq, m.toTag, undefined, undefined, undefined, m);
    // (the Route set as parsed URIs, read in place from the received bytes)
    const routes = m.routeUris.map(uriHost);
    const ruriHost = uriHost(m.requestUri);
    return routed(v?.branch, m.callId, m.cseq.seq, m.toTag, m.maxForwards, ruriHost, routes, m);
  };
  return {
    route,
    prepare: parse,
    serialize: (m) => m.toBuffer(),
    forward: (buf) => {
      const r = route(buf);
      const m = r.m ?? parse(buf);
      if (m.kind === 'request') {
        m.headers.prepend('Via', PROXY_VIA);
        m.maxForwards = (r.maxForwards ?? 70) - 1;
      } else {
        m.headers.shiftValue('Via');
      }
      return m.toBuffer();
    },
  };
}

async function kirmSip() {
  const { default: sip } = await import('sip');
  const parse = (buf) => {
    const m = sip.parse(buf);
    if (m === undefined) throw new Error('sip rejected the message');
    return m;
  };
  const route = (buf) => {
    const m = parse(buf);
    const h = m.headers;
    const branch = h.via[0].params.branch;
    const [callId, cseq, toTag] = [h['call-id'], h.cseq.seq, h.to.params.tag];
    if (m.status !== undefined)
      return routed(branch, callId, cseq, toTag, undefined, undefined, undefined, m);
    const routes = (h.route ?? []).map((r) => r.uri.host);
    const ruriHost = sip.parseUri(m.uri).host;
    return routed(branch, callId, cseq, toTag, +h['max-forwards'], ruriHost, routes, m);
  };
  return {
    route,
    prepare: parse,
    serialize: (m) => Buffer.from(sip.stringify(m)),
    forward: (buf) => {
      const r = route(buf);
      const m = r.m ?? parse(buf);
      if (m.status === undefined) {
        m.headers.via.unshift({
          version: '2.0',
          protocol: 'UDP',
          host: '192.0.2.10',
          port: 5060,
          params: { branch: 'z9hG4bK.bench.1' },
        });
        m.headers['max-forwards'] = r.maxForwards - 1;
      } else {
        m.headers.via.shift();
      }
      return Buffer.from(sip.stringify(m));
    },
  };
}

async function sipJs() {
  const { Core, Grammar } = await import('sip.js');
  const logger = new Core.LoggerFactory().getLogger('bench');
  const route = (buf) => {
    const m = Core.Parser.parseMessage(buf.toString(), logger);
    if (m === undefined) throw new Error('sip.js rejected the message');
    if (m instanceof Core.IncomingResponseMessage)
      return routed(m.viaBranch, m.callId, m.cseq, m.toTag, undefined, undefined, undefined, m);
    const routes = m.getHeaders('route').map((v) => Grammar.nameAddrHeaderParse(v)?.uri.host);
    const mf = m.parseHeader('max-forwards');
    return routed(m.viaBranch, m.callId, m.cseq, m.toTag, mf, m.ruri.host, routes, m);
  };
  // sip.js has no serialiser for a received message (it builds outgoing ones from scratch).
  return { route, prepare: undefined, serialize: undefined, forward: undefined };
}

/** Drops the first value of a comma-joined header string (drachtio keeps headers as raw text). */
function shiftRawValue(v) {
  const i = v.indexOf(',');
  return i < 0 ? undefined : v.slice(i + 1).trimStart();
}

async function drachtioSip() {
  const { default: drachtio } = await import('drachtio-sip');
  const { SipMessage } = drachtio;
  // new SipMessage(string) is drachtio's lazy path: headers are parsed on demand.
  const parse = (buf) => new SipMessage(buf.toString());
  const route = (buf) => {
    const m = parse(buf);
    const branch = m.getParsedHeader('via')[0].params.branch;
    const callId = m.get('call-id');
    const cseq = m.getParsedHeader('cseq').seq;
    const toTag = m.getParsedHeader('to').params.tag;
    if (m.status !== undefined)
      return routed(branch, callId, cseq, toTag, undefined, undefined, undefined, m);
    const routes = m.has('route') ? m.getParsedHeader('route').map((r) => r.uri.host) : [];
    const ruriHost = SipMessage.parseUri(m.uri).host;
    return routed(branch, callId, cseq, toTag, +m.get('max-forwards'), ruriHost, routes, m);
  };
  return {
    route,
    prepare: parse,
    serialize: (m) => Buffer.from(m.toString()),
    forward: (buf) => {
      const r = route(buf);
      const m = r.m ?? parse(buf);
      if (m.status === undefined) {
        m.headers.via = `${PROXY_VIA},${m.headers.via}`;
        m.headers['max-forwards'] = String(r.maxForwards - 1);
      } else {
        const rest = shiftRawValue(m.headers.via);
        if (rest === undefined) delete m.headers.via;
        else m.headers.via = rest;
      }
      return Buffer.from(m.toString());
    },
  };
}

/** Name → loader. A loader rejects when the package is not installed. */
export const PARSERS = {
  ours,
  sip: kirmSip,
  'sip.js': sipJs,
  'drachtio-sip': drachtioSip,
};
