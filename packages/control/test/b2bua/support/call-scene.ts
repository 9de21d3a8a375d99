/** Tone files, baresip pairs and the checks shared by the end-to-end call tests. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Baresip, freePort, type BaresipOptions } from './baresip.js';
import { analyseTone, readWav, type ToneReport } from './tone-analysis.js';

export const TONE_HZ = 1000;
export const TONE_SECONDS = 3;

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface AudioFiles {
  tone: string;
  silence: string;
}

/** A 3 s 1000 Hz tone and 3 s of silence (8 kHz mono s16), made with sox. */
export function audioFiles(t: Teardown): AudioFiles {
  const dir = mkdtempSync(join(tmpdir(), 'sb-tone-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const tone = join(dir, 'tone.wav');
  const silence = join(dir, 'silence.wav');
  const sox = ['-n', '-r', '8000', '-c', '1', '-b', '16'];
  execFileSync('sox', [...sox, tone, 'synth', String(TONE_SECONDS), 'sine', String(TONE_HZ)]);
  execFileSync('sox', [...sox, silence, 'trim', '0', String(TONE_SECONDS)]);
  return { tone, silence };
}

/** An even RTP port range below the ephemeral range, different per run. */
export function portRange(size = 100): { min: number; max: number } {
  const min = 20000 + size * 2 * Math.floor(Math.random() * (8000 / size));
  return { min, max: min + size - 1 };
}

export async function startBaresip(
  t: Teardown,
  options: Omit<BaresipOptions, 'sipPort' | 'ctrlPort' | 'rtpPorts'> & {
    sipPort?: number;
    ctrlPort?: number;
  },
): Promise<Baresip> {
  const local = options.netns === undefined ? options.address : '127.0.0.1';
  const ua = new Baresip({
    ...options,
    sipPort: options.sipPort ?? (await freePort(local)),
    ctrlPort: options.ctrlPort ?? (await freePort(local)),
    rtpPorts: portRange(40),
  });
  t.teardown(() => ua.close());
  await ua.start();
  return ua;
}

/** What the agent heard: its decoded audio, analysed for the test tone. */
export function heard(ua: Baresip): ToneReport {
  const wav = ua.decodedWav();
  if (wav === undefined) throw new Error(`no recording\n${ua.log.slice(-2000)}`);
  return analyseTone(readWav(wav), TONE_HZ);
}

export async function until(check: () => boolean, what: string, deadlineMs = 15_000) {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > deadlineMs) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
