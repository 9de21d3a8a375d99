import type { Flow, SendReport } from './transport.js';

/** A send's outcome as a promise, for the callers of the promise forms of sending. */
export class PromiseReport implements SendReport {
  readonly promise: Promise<Flow>;
  #resolve: ((flow: Flow) => void) | undefined;
  #reject: ((err: unknown) => void) | undefined;

  constructor() {
    this.promise = new Promise<Flow>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  sent(flow: Flow): void {
    this.#resolve?.(flow);
  }

  failed(error: unknown): void {
    this.#reject?.(error);
  }
}
