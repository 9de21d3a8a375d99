import type { Directory, OutboundRouteInfo } from '../store/directory.js';
import { reject } from './directive.js';
import type { Directive, TrunkHop } from './directive.js';
import { applyTransform, normalizeNumber } from './number-format.js';

/** The route for a number: longest matching prefix first, then lowest priority (the directory's order). */
export function pickRoutes(
  routes: readonly OutboundRouteInfo[],
  number: string,
): OutboundRouteInfo[] {
  return routes.filter((r) => number.startsWith(r.prefix));
}

/**
 * Outbound calls: refuse when the wallet is enforced and empty; pick the best route with a
 * usable trunk; apply the route's strip/prepend and each hop's transform; trunks in failover order.
 */
export class OutboundPlanner {
  #directory: Directory;

  constructor(directory: Directory) {
    this.#directory = directory;
  }

  async plan(
    accountId: string,
    dialled: string,
    callerId: string | null,
    onlyTrunk?: string,
  ): Promise<Directive> {
    const number = normalizeNumber(dialled);
    if (number === undefined)
      return reject(484, 'Address Incomplete', 'CTL_ERR_UNKNOWN_DESTINATION'); // RFC 3261 §21.4.22
    const wallet = await this.#directory.wallet(accountId);
    if (wallet !== undefined && wallet.enforce && wallet.balanceMicros <= 0) {
      return reject(402, 'Payment Required', 'CTL_ERR_PAYMENT_REQUIRED');
    }
    if (onlyTrunk !== undefined) {
      const hop = await this.#hop(accountId, onlyTrunk, number, null, callerId);
      if (hop === undefined) return reject(503, 'Service Unavailable', 'CTL_ERR_UNAVAILABLE');
      return { kind: 'outbound', accountId, number, callerId, routeId: null, trunks: [hop] };
    }
    for (const route of pickRoutes(await this.#directory.outboundRoutes(accountId), number)) {
      const routed = applyTransform(number, { strip: route.stripDigits, prepend: route.prepend });
      const trunks: TrunkHop[] = [];
      for (const t of route.trunks) {
        const hop = await this.#hop(accountId, t.trunkId, routed, t.transform, callerId);
        if (hop !== undefined) trunks.push(hop);
      }
      if (trunks.length > 0)
        return { kind: 'outbound', accountId, number: routed, callerId, routeId: route.id, trunks };
    }
    return reject(404, 'No Route', 'CTL_ERR_UNKNOWN_DESTINATION');
  }

  async #hop(
    accountId: string,
    trunkId: string,
    number: string,
    transform: Parameters<typeof applyTransform>[1],
    callerId: string | null,
  ): Promise<TrunkHop | undefined> {
    const trunk = await this.#directory.trunk(trunkId);
    if (
      trunk === undefined ||
      trunk.accountId !== accountId ||
      !trunk.active ||
      trunk.direction === 'inbound'
    )
      return undefined;
    return {
      trunkId,
      host: trunk.proxyHost,
      port: trunk.proxyPort,
      transport: trunk.transport,
      number: applyTransform(number, transform),
      authUsername: trunk.authUsername,
      authSecretRef: trunk.authSecretRef,
      customHeaders: trunk.customHeaders,
      maxChannels: trunk.maxChannels,
      callerId: trunk.callerId ?? callerId,
    };
  }
}
