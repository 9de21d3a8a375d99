/** The native relay behind the edge's MediaRelayPort; start-up survives a relay that cannot load. */
import { RtpRelay } from '@switchboard/rtp-relay';
import type { EdgeLogger, EdgeMediaOptions } from './edge-options.js';
import type { MediaRelayPort } from './media-anchor.js';

export interface StartedRelay {
  readonly port: MediaRelayPort;
  /** e.g. `kernel, shared ports` or `userspace (reason), sockets (reason)`. */
  readonly description: string;
  close(): void;
}

/**
 * Creates the relay (port mode `auto`; the kernel path unless disabled, falling back to userspace
 * by itself). A relay that fails to start is logged and the edge runs without anchoring.
 */
export function startRelay(media: EdgeMediaOptions, log: EdgeLogger): StartedRelay | undefined {
  if (media.mode === 'never') return undefined;
  let relay: RtpRelay;
  try {
    relay = RtpRelay.create({
      ports: media.ports,
      addresses: [
        media.advertised === undefined
          ? media.address
          : { address: media.address, advertised: media.advertised },
      ],
      portMode: 'auto',
      kernel: media.kernel ?? true,
      ...(media.timeoutMs === undefined ? {} : { timeoutMs: media.timeoutMs }),
      logger: log,
    });
  } catch (err) {
    log.error({ err }, 'RTP relay unavailable: media will not be anchored');
    return undefined;
  }
  const description =
    `${relay.mode}${relay.mode === 'kernel' ? '' : ` (${relay.modeReason})`}, ` +
    `${relay.portMode} ports${relay.portMode === 'shared' ? '' : ` (${relay.portModeReason})`}`;
  return {
    port: { createSession: () => relay.createSession() },
    description,
    close: () => relay.close(),
  };
}
