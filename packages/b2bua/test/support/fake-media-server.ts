/** An in-memory MediaServer: legs that speak the codecs they are told to, and record what they got. */
import type {
  CollectResult,
  MediaCodec,
  MediaLeg,
  MediaLegOptions,
  MediaServer,
  PlayResult,
  RecordResult,
} from '../../src/media/media-server.js';
import type { RelayLocal, RelayRemote } from '../../src/media/media-relay.js';

export class FakeMediaLeg implements MediaLeg {
  readonly codec: MediaCodec;
  readonly local: RelayRemote = { address: '192.0.2.200', rtpPort: 7000 };
  connectedTo: RelayLocal | undefined;
  released = false;

  constructor(codec: MediaCodec) {
    this.codec = codec;
  }

  connect(relay: RelayLocal): void {
    this.connectedTo = relay;
  }
  play(): Promise<PlayResult> {
    return Promise.resolve({ completed: true });
  }
  collectDigits(): Promise<CollectResult> {
    return Promise.resolve({ digits: '', reason: 'timeout' });
  }
  record(): Promise<RecordResult> {
    return Promise.resolve({ uri: 'mem:rec', durationMs: 0, reason: 'stopped' });
  }
  startHoldMusic(): void {}
  stop(): void {}
  release(): Promise<void> {
    this.released = true;
    return Promise.resolve();
  }
}

export class FakeMediaServer implements MediaServer {
  readonly legs: FakeMediaLeg[] = [];
  readonly requests: MediaLegOptions[] = [];
  /** Codec names the server speaks, in preference order. */
  constructor(readonly speaks: readonly string[] = ['PCMU', 'PCMA']) {}

  createLeg(options: MediaLegOptions): Promise<MediaLeg> {
    this.requests.push(options);
    const codec = options.codecs.find((c) => this.speaks.includes(c.name));
    if (codec === undefined) return Promise.reject(new Error('no common codec'));
    const leg = new FakeMediaLeg(codec);
    this.legs.push(leg);
    return Promise.resolve(leg);
  }
}
