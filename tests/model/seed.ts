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
