/** Event maps name each event and its argument tuple: `{ bye: [request: IncomingRequest] }`. */
export type EventMap = { [name: string]: unknown[] };

export type Listener<A extends unknown[]> = (...args: A) => void;

/** Reports a listener that threw; the emitter itself never throws. */
export type ListenerErrorHandler = (error: unknown, event: string) => void;

/**
 * A small typed event emitter. A listener that throws does not stop the others and never reaches
 * the code that emitted (which is usually handling network input).
 */
export class TypedEmitter<E extends EventMap> {
  /** Type-level only (never set): lets helpers infer the event map of a subclass. */
  declare protected readonly eventMap: E;
  readonly #listeners = new Map<keyof E, Listener<never>[]>();
  #onListenerError: ListenerErrorHandler | undefined;

  protected setListenerErrorHandler(handler: ListenerErrorHandler): void {
    this.#onListenerError = handler;
  }

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const list = this.#listeners.get(event);
    if (list === undefined) this.#listeners.set(event, [listener]);
    else list.push(listener);
    return this;
  }

  once<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const wrapped = (...args: E[K]): void => {
      this.off(event, wrapped);
      listener(...args);
    };
    return this.on(event, wrapped);
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const list = this.#listeners.get(event);
    if (list === undefined) return this;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Calls every listener of `event`; true when there was at least one. */
  protected emit<K extends keyof E>(event: K, ...args: E[K]): boolean {
    const list = this.#listeners.get(event);
    if (list === undefined || list.length === 0) return false;
    for (const listener of [...list]) {
      try {
        (listener as Listener<E[K]>)(...args);
      } catch (err) {
        this.#onListenerError?.(err, String(event));
      }
    }
    return true;
  }

  protected removeAllListeners(): void {
    this.#listeners.clear();
  }
}
