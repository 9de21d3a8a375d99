import { RtpRelay, RtpRelayError, type PortMode } from '../../src/index.js';

/** Both port modes; tests that behave the same in each run once per mode. */
export const PORT_MODES: readonly PortMode[] = ['sockets', 'shared'];

let probed: string | false | undefined;

/**
 * False when shared port mode runs here, else why not (a visible skip message): it
 * needs the BPF object in the build, CAP_BPF, CAP_NET_ADMIN and CAP_NET_RAW.
 */
export function sharedUnavailable(): string | false {
  if (probed !== undefined) return probed;
  try {
    const relay = RtpRelay.create({
      portMode: 'shared',
      ports: { min: 29990, max: 29999 },
      addresses: ['127.0.0.1'],
      kernel: false,
      threads: 1,
    });
    relay.close();
    probed = false;
  } catch (e) {
    probed = `shared port mode unavailable here (run as root): ${e instanceof RtpRelayError ? e.message : String(e)}`;
  }
  return probed;
}

/** Skip option of a per-mode subtest. */
export function skipFor(mode: PortMode): string | false {
  return mode === 'shared' ? sharedUnavailable() : false;
}

/**
 * The port range a test file uses in `mode`. Sockets mode keeps the file's range. Shared
 * mode holds no socket on its ports, so a peer's ephemeral port could land on one; its
 * range is moved 19,000 down, below the ephemeral range (32768–60999), where no peer
 * bound to port 0 can get one.
 */
export function rangeFor(mode: PortMode, min: number, max: number): { min: number; max: number } {
  return mode === 'shared' ? { min: min - 19000, max: max - 19000 } : { min, max };
}
