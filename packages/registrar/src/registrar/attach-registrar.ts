/** Wires a Registrar to a SipEndpoint: REGISTER requests and closed flows. */
import type { SipEndpoint } from '@switchboard/sip-stack';
import type { Registrar } from './registrar.js';

/**
 * Answers every REGISTER the endpoint receives through `registrar.handle` and drops bindings
 * whose flow closes. The endpoint should list 'path' and 'outbound' in its `supported` option, or
 * it answers `Require: outbound` with 420 itself. Returns a function that undoes the wiring.
 */
export function attachRegistrar(registrar: Registrar, endpoint: SipEndpoint): () => void {
  endpoint.onRequest('REGISTER', async (incoming) => {
    const response = await registrar.handle(incoming.request, incoming.flow);
    if (!incoming.responded) incoming.respondWith(response);
  });
  const off = endpoint.transport.onFlowClosed(
    (flow) => void registrar.flowClosed(flow).catch(() => undefined),
  );
  return () => {
    endpoint.offRequest('REGISTER');
    off();
  };
}
