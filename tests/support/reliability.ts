/** Real-time helpers of the reliability tests: state timestamps, spreads, a stand-in page, timer tracking. */
import type { ManagedWebSocket, WebSocketState } from "../../src/index";

/** Resolves with `performance.now()` when `socket` next becomes `wanted`; rejects after `timeoutMs`. */
export function nextState(socket: ManagedWebSocket, wanted: WebSocketState, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`socket ${socket.key} did not become ${wanted} within ${timeoutMs} ms (state ${socket.state})`));
    }, timeoutMs);
    const unsubscribe = socket.onStateChange.subscribe((state) => {
      if (state !== wanted) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(performance.now());
    });
  });
}

/**
 * How evenly `times` spread over their own range: the range, and the largest share of
 * them that falls into one of `slices` equal slices of it.
 */
export function spread(times: readonly number[], slices = 10): { span: number; maxSliceShare: number; counts: number[] } {
  const min = Math.min(...times);
  const span = Math.max(...times) - min;
  const counts = new Array<number>(slices).fill(0);
  for (const time of times) {
    const index = span === 0 ? 0 : Math.min(slices - 1, Math.floor(((time - min) / span) * slices));
    counts[index]! += 1;
  }
  return { span, maxSliceShare: Math.max(...counts) / times.length, counts };
}

/**
 * Gives Node a `document` (visible) and a `window`-like global event target, as in a
 * browser, and counts the listeners added to them minus those removed, by type.
 * Call `restore()` (or `vi.unstubAllGlobals()`) when done.
 */
export function stubBrowserEnvironment() {
  const documentTarget = Object.assign(new EventTarget(), { visibilityState: "visible" });
  const windowTarget = new EventTarget();
  const listeners = new Map<string, Set<unknown>>();
  const count = (target: EventTarget) => {
    const add = target.addEventListener.bind(target);
    const remove = target.removeEventListener.bind(target);
    return {
      addEventListener(type: string, listener: EventListenerOrEventListenerObject | null) {
        if (listener) listeners.set(type, (listeners.get(type) ?? new Set()).add(listener));
        add(type, listener);
      },
      removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null) {
        listeners.get(type)?.delete(listener);
        remove(type, listener);
      },
    };
  };
  const globals = globalThis as Record<string, unknown>;
  const saved = { document: globals.document, addEventListener: globals.addEventListener, removeEventListener: globals.removeEventListener };
  Object.assign(documentTarget, count(documentTarget));
  globals.document = documentTarget;
  Object.assign(globals, count(windowTarget));
  return {
    document: documentTarget,
    window: windowTarget,
    /** Listeners currently registered, per event type. */
    listenerCount(type?: string): number {
      if (type !== undefined) return listeners.get(type)?.size ?? 0;
      return [...listeners.values()].reduce((total, set) => total + set.size, 0);
    },
    restore() {
      Object.assign(globals, saved);
      for (const [name, value] of Object.entries(saved)) if (value === undefined) delete globals[name];
    },
  };
}

type TimerFunctions = Pick<typeof globalThis, "setTimeout" | "clearTimeout" | "setInterval" | "clearInterval">;

/**
 * Wraps the global timer functions and tracks the timers created from now on that are
 * still pending: a timeout until it fires or is cleared, an interval until it is cleared.
 * Code that looks `setTimeout` up when it schedules (xstate does) is counted.
 */
export function trackTimers() {
  const pending = new Set<unknown>();
  const globals = globalThis as unknown as TimerFunctions;
  const original: TimerFunctions = {
    setTimeout: globals.setTimeout,
    clearTimeout: globals.clearTimeout,
    setInterval: globals.setInterval,
    clearInterval: globals.clearInterval,
  };
  let created = 0;
  const wrapped = {
    setTimeout(callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) {
      created += 1;
      const handle = original.setTimeout((...callArgs: unknown[]) => {
        pending.delete(handle);
        callback(...callArgs);
      }, ms, ...args);
      pending.add(handle);
      return handle;
    },
    clearTimeout(handle: unknown) {
      pending.delete(handle);
      original.clearTimeout(handle as Parameters<typeof clearTimeout>[0]);
    },
    setInterval(callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) {
      created += 1;
      const handle = original.setInterval(callback, ms, ...args);
      pending.add(handle);
      return handle;
    },
    clearInterval(handle: unknown) {
      pending.delete(handle);
      original.clearInterval(handle as Parameters<typeof clearInterval>[0]);
    },
  };
  Object.assign(globals, wrapped);
  return {
    /** Timers created since `trackTimers()` that have neither fired (timeouts) nor been cleared. */
    get pending(): number {
      return pending.size;
    },
    get created(): number {
      return created;
    },
    restore(): void {
      Object.assign(globals, original);
    },
  };
}

/**
 * Shares of `values` in `slices` equal slices of the fixed window [from, to]; values
 * below the window count in the first slice, values above it in the last.
 */
export function windowShares(values: readonly number[], from: number, to: number, slices = 10): number[] {
  const counts = new Array<number>(slices).fill(0);
  for (const value of values) {
    const index = Math.min(slices - 1, Math.max(0, Math.floor(((value - from) / (to - from)) * slices)));
    counts[index]! += 1;
  }
  return counts.map((count) => count / values.length);
}
