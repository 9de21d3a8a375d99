/**
 * A SessionDescriptionHandler for sip.js running in Node (no WebRTC): it offers and answers a
 * fixed SDP and records what the peer sent.
 */
import type {
  BodyAndContentType,
  SessionDescriptionHandler,
  SessionDescriptionHandlerFactory,
} from 'sip.js';

export class FixedSdpHandler implements SessionDescriptionHandler {
  readonly #sdp: string;
  readonly #received: string[];

  constructor(sdp: string, received: string[]) {
    this.#sdp = sdp;
    this.#received = received;
  }

  close(): void {
    // nothing to release: no media
  }

  getDescription(): Promise<BodyAndContentType> {
    return Promise.resolve({ body: this.#sdp, contentType: 'application/sdp' });
  }

  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp';
  }

  setDescription(sdp: string): Promise<void> {
    this.#received.push(sdp);
    return Promise.resolve();
  }

  sendDtmf(): boolean {
    return false;
  }
}

/** A factory handing every session a FixedSdpHandler; `received` collects the peer's SDPs. */
export function fixedSdpFactory(sdp: string, received: string[]): SessionDescriptionHandlerFactory {
  return () => new FixedSdpHandler(sdp, received);
}
