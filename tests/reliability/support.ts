/** Small real-time helpers shared by the reliability tests (real sockets, real timers). */
import type { ManagedWebSocket, WebSocketState } from "../../src/index";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

/** Resolves with the data of the next frame `socket` delivers; rejects after `timeoutMs`. */
export function nextMessage(socket: ManagedWebSocket, timeoutMs = 2000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`socket ${socket.key} received nothing within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = socket.onMessage.subscribe((event) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(event.data);
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
