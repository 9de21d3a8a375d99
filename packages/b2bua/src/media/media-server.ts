/**
 * The media engine as the B2BUA needs it: something that speaks, listens and records on a call
 * (IVR, queue hold music, voicemail, recording). A later issue implements it on the native relay's
 * media primitives; the control plane passes it to the B2BUA.
 *
 * A media leg is an RTP endpoint the relay can point a call side at. Inserting one repoints the
 * relay (the caller keeps its relay ports, so it is not re-invited unless the codec must change);
 * releasing it points the relay back at the other party.
 */
import type { RelayLocal, RelayRemote } from './media-relay.js';

/** A codec as negotiated with the caller, which the media leg must speak. */
export interface MediaCodec {
  name: string;
  payloadType: number;
  clockRate: number;
  channels?: number;
  /** RFC 4733 telephone-event payload type, when negotiated. */
  dtmfPayloadType?: number;
}

export interface MediaLegOptions {
  /** For logs and file names. */
  callId: string;
  /** The codecs the caller negotiated, in preference order; the leg picks one it can speak. */
  codecs: readonly MediaCodec[];
}

export type PlaySource =
  | { kind: 'file'; uri: string }
  | { kind: 'tone'; frequencies: readonly number[]; durationMs: number }
  | { kind: 'silence'; durationMs: number };

export interface PlayOptions {
  /** Repeat until stopped (hold music). */
  loop?: boolean;
  /** Stop playing when the caller presses a key (barge-in). */
  bargeIn?: boolean;
}

export type PlayResult =
  { completed: true } | { completed: false; reason: 'stopped' | 'barge-in' | 'error' };

export interface CollectOptions {
  maxDigits: number;
  /** Time allowed for the first digit. */
  firstDigitTimeoutMs: number;
  interDigitTimeoutMs: number;
  /** Keys that end collection (not included in the result), e.g. '#'. */
  terminators?: string;
}

export interface CollectResult {
  digits: string;
  reason: 'max-digits' | 'terminator' | 'timeout' | 'stopped';
}

export interface RecordOptions {
  /** Where to store (file path or object-storage key). */
  uri: string;
  maxDurationMs: number;
  /** Stop after this much silence. */
  silenceTimeoutMs?: number;
  beep?: boolean;
  terminators?: string;
}

export interface RecordResult {
  uri: string;
  durationMs: number;
  reason: 'max-duration' | 'silence' | 'terminator' | 'stopped';
}

/** One media endpoint attached to one call side. */
export interface MediaLeg {
  /** The codec the leg speaks (one of the caller's). */
  readonly codec: MediaCodec;
  /** Where the leg receives RTP: the relay sends the caller's media here. */
  readonly local: RelayRemote;
  /** Where the leg sends RTP: the relay port facing it. */
  connect(relay: RelayLocal): void;
  play(source: PlaySource, options?: PlayOptions): Promise<PlayResult>;
  collectDigits(options: CollectOptions): Promise<CollectResult>;
  record(options: RecordOptions): Promise<RecordResult>;
  /** Loops hold music until `stop()` or `release()`. */
  startHoldMusic(uri?: string): void;
  /** Stops whatever the leg is doing (play, collect, record, hold music). */
  stop(): void;
  /** Frees the leg; safe to call more than once. */
  release(): Promise<void>;
}

export interface MediaServer {
  /** Opens a media leg able to speak one of `options.codecs`; rejects when none fits or no capacity. */
  createLeg(options: MediaLegOptions): Promise<MediaLeg>;
}
