/**
 * Random walks through the connection model, longer than the transition tour and with
 * its cycles (drop, reconnect, drop again; ping, pong, ping), each executed on the real
 * facade and held to the same three standards as every tour path.
 */
import fc from "fast-check";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { createConnectionModel, type Stimulus } from "./kit/model";
import { createRig, type Rig, runPath } from "./run-path";
import { propertyParameters, SEED, seededRandom } from "./seed";

const model = createConnectionModel({ maxReconnectAttempts: 3 });
let rig: Rig | undefined;

beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  rig?.dispose();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/**
 * Follows `choices` through the model: at each step, one of the stimuli the model offers.
 * A stimulus that ends the socket is taken in one step out of sixteen, so that walks get
 * somewhere first.
 */
function walk(choices: number[]): Stimulus[] {
  const stimuli: Stimulus[] = [];
  for (const choice of choices) {
    const offered = model.next(stimuli);
    if (offered.length === 0) break;
    const staying = offered.filter((step) => step.publicState !== "closed");
    const pool = choice % 16 === 0 || staying.length === 0 ? offered : staying;
    stimuli.push(pool[Math.floor(choice / 16) % pool.length]!.stimulus);
  }
  return stimuli;
}

it("random walks through the model behave as docs/protocol.md says on the real facade", async () => {
  let runs = 0;
  let steps = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.nat(), { minLength: 20, maxLength: 40 }), fc.integer(), async (choices, jitter) => {
      rig?.dispose();
      vi.clearAllTimers();
      vi.spyOn(Math, "random").mockImplementation(seededRandom(jitter));
      rig = createRig(model);
      const path = model.replay(walk(choices));
      runs += 1;
      steps += path.steps.length;
      await runPath(rig, model, path);
    }),
    propertyParameters(120),
  );
  console.log(`model walks: ${runs} walks, ${steps} steps, seed ${SEED}`);
  expect(steps).toBeGreaterThan(runs * 5);
});
