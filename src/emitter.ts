/** The tiny emitter every socket event uses: `subscribe(fn)` returns `unsubscribe()`. */

export type Listener<T> = (value: T) => void;

/** The subscribe side of a socket event (`onMessage`, `onStateChange`, …). */
export interface Emitter<T> {
  /** Calls `listener` for every value from now on; returns the function that stops it. */
  subscribe(listener: Listener<T>): () => void;
}

/** Reports an error thrown by a listener without letting it stop anything else. */
export function reportListenerError(error: unknown): void {
  const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
  if (typeof report === "function") {
    try {
      report(error);
      return;
    } catch {
      // reportError itself failed (e.g. rethrown by a test environment): fall back below.
    }
  }
  console.error("sockstate: a listener threw", error);
}

/** The listeners of every emitter nobody subscribes to: one shared array, not one per emitter. */
const NO_LISTENERS: readonly never[] = Object.freeze([]);

/** The writable side, kept by the socket. */
export class EventEmitter<T> implements Emitter<T> {
  // Never mutated: each change replaces the array.
  #listeners: ReadonlyArray<Listener<T>> = NO_LISTENERS;

  subscribe(listener: Listener<T>): () => void {
    if (typeof listener !== "function") {
      throw new TypeError(`sockstate: subscribe() needs a function, got ${typeof listener}`);
    }
    // A fresh array per change: emit() iterates the array it started with. `concat` sizes
    // it exactly; a spread (`[...listeners, listener]`) reserves 17 slots on V8.
    this.#listeners = this.#listeners.concat([listener]);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      const index = this.#listeners.indexOf(listener);
      if (index !== -1) this.#listeners = this.#listeners.slice(0, index).concat(this.#listeners.slice(index + 1));
    };
  }

  emit(value: T): void {
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(value);
      } catch (error) {
        reportListenerError(error);
      }
    }
  }

  /** How many listeners are subscribed now. */
  get size(): number {
    return this.#listeners.length;
  }

  clear(): void {
    this.#listeners = NO_LISTENERS;
  }
}
