/** Session descriptions used by the tests. */

export interface SdpSampleOptions {
  address?: string;
  port?: number;
  /** m= formats, e.g. '0 8 101'. */
  formats?: string;
  direction?: string;
  extra?: string[];
  user?: string;
  version?: number;
}

export function audioSdp(options: SdpSampleOptions = {}): string {
  const address = options.address ?? '192.0.2.1';
  const formats = options.formats ?? '0 8 101';
  const lines = [
    'v=0',
    `o=${options.user ?? 'alice'} 100 ${options.version ?? 1} IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${options.port ?? 4000} RTP/AVP ${formats}`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    ...(options.direction === undefined ? [] : [`a=${options.direction}`]),
    ...(options.extra ?? []),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** Caller's offer (PCMU, PCMA, telephone-event). */
export const OFFER_A = audioSdp({ address: '192.0.2.1', port: 4000, user: 'alice' });
/** Callee's answer (PCMU, telephone-event). */
export const ANSWER_B = audioSdp({
  address: '198.51.100.2',
  port: 5000,
  formats: '0 101',
  user: 'bob',
});
