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
  /**
   * Event names and their listener lists, side by side, made on the first `on`: most emitters
   * (one per transaction, request and dialog) see a few events or none, and a linear search of
   * a few names costs less than a Map made for every one of them.
   */
  #names: (keyof E)[] | undefined;
  #lists: Listener<never>[][] | undefined;
  #onListenerError: ListenerErrorHandler | undefined;

  protected setListenerErrorHandler(handler: ListenerErrorHandler): void {
    this.#onListenerError = handler;
  }

  #list(event: keyof E): Listener<never>[] | undefined {
    const names = this.#names;
    if (names === undefined) return undefined;
    const i = names.indexOf(event);
    return i < 0 ? undefined : this.#lists?.[i];
  }

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const list = this.#list(event);
    if (list !== undefined) list.push(listener);
    else if (this.#names === undefined || this.#lists === undefined) {
      this.#names = [event];
      this.#lists = [[listener]];
    } else {
      this.#names.push(event);
      this.#lists.push([listener]);
    }
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
    const list = this.#list(event);
    if (list === undefined) return this;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.#list(event)?.length ?? 0;
  }

  /**
   * Calls every listener of `event` (those registered when it starts: a listener added or removed
   * meanwhile changes the next emit); true when there was at least one.
   */
  protected emit<K extends keyof E>(event: K, ...args: E[K]): boolean {
    const list = this.#list(event);
    if (list === undefined || list.length === 0) return false;
    if (list.length === 1) {
      this.#call(list[0] as Listener<E[K]>, event, args);
      return true;
    }
    for (const listener of list.slice()) this.#call(listener as Listener<E[K]>, event, args);
    return true;
  }

  #call<K extends keyof E>(listener: Listener<E[K]>, event: K, args: E[K]): void {
    try {
      listener(...args);
    } catch (err) {
      this.#onListenerError?.(err, String(event));
    }
  }

  protected removeAllListeners(): void {
    this.#names = undefined;
    this.#lists = undefined;
  }
}
