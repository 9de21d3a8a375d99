/** Reads a PCM WAV file and finds a steady tone in it with the Goertzel algorithm. */
import { readFileSync } from 'node:fs';

export interface Pcm {
  sampleRate: number;
  samples: Float64Array;
}

/** 16-bit PCM WAV (mono, or the first channel). */
export function readWav(path: string): Pcm {
  const buf = readFileSync(path);
  if (buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE')
    throw new Error(`${path}: not a WAV file`);
  let offset = 12;
  let sampleRate = 0;
  let channels = 1;
  let bits = 16;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('latin1', offset, offset + 4);
    let size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(body + 2);
      sampleRate = buf.readUInt32LE(body + 4);
      bits = buf.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (bits !== 16) throw new Error(`${path}: ${bits}-bit samples`);
      // A writer killed mid-call leaves the data size unset: take what is there.
      if (size === 0 || body + size > buf.length) size = buf.length - body;
      const frames = Math.floor(size / (2 * channels));
      const samples = new Float64Array(frames);
      for (let i = 0; i < frames; i++)
        samples[i] = buf.readInt16LE(body + i * 2 * channels) / 32768;
      return { sampleRate, samples };
    }
    offset = body + size + (size % 2);
  }
  throw new Error(`${path}: no data chunk`);
}

/** Power of `freq` in samples [start, end) (Goertzel). */
export function goertzel(pcm: Pcm, freq: number, start: number, end: number): number {
  const n = end - start;
  const k = Math.round((n * freq) / pcm.sampleRate);
  const w = (2 * Math.PI * k) / n;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = start; i < end; i++) {
    const s0 = (pcm.samples[i] ?? 0) + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n);
}

export interface ToneReport {
  /** The strongest frequency over the frames with sound, 50 Hz steps from 300 to 3400 Hz. */
  dominantHz: number;
  /** Seconds of 20 ms frames where `freq` carries most of the frame's energy. */
  toneSeconds: number;
  totalSeconds: number;
}

/** Frames (20 ms) where the tone at `freq` holds at least `share` of the frame's energy. */
export function analyseTone(pcm: Pcm, freq: number, share = 0.5): ToneReport {
  const frame = Math.round(pcm.sampleRate / 50);
  const candidates: number[] = [];
  for (let f = 300; f <= 3400; f += 50) candidates.push(f);
  const totals = new Map<number, number>(candidates.map((f) => [f, 0]));
  let toneFrames = 0;
  for (let start = 0; start + frame <= pcm.samples.length; start += frame) {
    let energy = 0;
    for (let i = start; i < start + frame; i++) energy += (pcm.samples[i] ?? 0) ** 2;
    const meanSquare = energy / frame;
    if (meanSquare < 1e-5) continue; // silence
    for (const f of candidates)
      totals.set(f, (totals.get(f) ?? 0) + goertzel(pcm, f, start, start + frame));
    // A pure sine of amplitude A has mean square A²/2 and Goertzel power A²/4.
    if (goertzel(pcm, freq, start, start + frame) * 2 >= share * meanSquare) toneFrames++;
  }
  let dominantHz = 0;
  let best = -1;
  for (const [f, p] of totals)
    if (p > best) {
      best = p;
      dominantHz = f;
    }
  return {
    dominantHz,
    toneSeconds: (toneFrames * frame) / pcm.sampleRate,
    totalSeconds: pcm.samples.length / pcm.sampleRate,
  };
}
