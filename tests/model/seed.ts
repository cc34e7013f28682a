/**
 * fast-check settings shared by the property suites: a fixed seed so that CI is
 * deterministic, replaced by `SOCKSTATE_SEED=<n>` to explore or to replay a failure
 * (fast-check prints the seed and the shrunk counterexample when a property fails).
 */
import type { Parameters } from "fast-check";

const fromEnv = Number(process.env.SOCKSTATE_SEED);

export const SEED = Number.isInteger(fromEnv) ? fromEnv : 20_261_126;

export function propertyParameters<T>(numRuns: number): Parameters<T> {
  return { seed: SEED, numRuns, endOnFailure: true };
}

/**
 * A seeded stand-in for `Math.random` (mulberry32), so that the backoff jitter of a run
 * is replayed with its seed: `vi.spyOn(Math, "random").mockImplementation(seededRandom(n))`.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
