/** Waiting in tests on real timers: a pause, a polled condition, a socket's next message. */
import type { ManagedWebSocket } from "../../src/index";

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type Falsy = false | 0 | "" | null | undefined;

/**
 * Resolves with the first truthy value of `check()`, polled every millisecond or so;
 * rejects after `timeoutMs`, naming `what`.
 */
export async function until<T>(check: () => T, timeoutMs = 3000, what = "condition"): Promise<Exclude<T, Falsy>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value as Exclude<T, Falsy>;
    if (performance.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(1);
  }
}

/** Resolves with the data of the next frame `socket` delivers; rejects after `timeoutMs`. */
export function nextMessage(socket: ManagedWebSocket, timeoutMs = 2000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no message on ${socket.key} within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = socket.onMessage.subscribe((event) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(event.data);
    });
  });
}
