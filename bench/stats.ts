/** Small numeric and timing helpers of the bench. */
import { setTimeout as sleep } from "node:timers/promises";
import { getHeapSpaceStatistics } from "node:v8";

export { sleep };

/** The `p`-th percentile (0–100) of `values`, nearest-rank; `NaN` for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The median of `values` (mean of the middle two for an even count); `NaN` for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function min(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.min(...values);
}

export function max(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.max(...values);
}

/** A promise with its resolve/reject at hand. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** Bytes as kilobytes (1,024), one decimal: `15.5 KB`. */
export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** `promise`, or a rejection naming `what` after `ms` — no wait in the bench is unbounded. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `check` every `intervalMs` until it is true; rejects naming `what` after `ms`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, ms: number, what: string, intervalMs = 10): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not done within ${ms} ms`);
    await sleep(intervalMs);
  }
}

/** Forces `collections` full collections (needs `--expose-gc`) and returns heap used + external bytes. */
export function settledMemory(collections = 2): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("the memory figures need node --expose-gc (npm run bench passes it)");
  for (let i = 0; i < collections; i++) gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

/**
 * Heap used + external once the garbage is gone: a full collection, a short pause in which
 * FinalizationRegistry callbacks of what died run (Node's fetch keeps each request's
 * AbortSignal in one until then), and full collections again for what they released.
 * Every client is read this way, so what is counted is what stays reachable.
 */
export async function collectedMemory(): Promise<number> {
  settledMemory(1);
  await sleep(FINALIZATION_PAUSE);
  return settledMemory();
}

/** Long enough for the cleanup tasks a full collection posts to run. */
const FINALIZATION_PAUSE = 20;

/**
 * Bytes of V8's code spaces (part of `heapUsed`): compiled code, which grows when the JIT
 * optimizes something, not with the number of connections.
 */
export function codeSpace(): number {
  return getHeapSpaceStatistics()
    .filter((space) => space.space_name.startsWith("code"))
    .reduce((bytes, space) => bytes + space.space_used_size, 0);
}
