/**
 * Every path of the connection machine, executed on the real facade.
 *
 * The paths come from the machine (`createConnectionModel`, built on `xstate/graph`): the
 * shortest way to every model state, extended by every stimulus that state accepts. Each
 * runs against `createClient` → `ManagedWebSocket` on the in-memory model network with
 * fake timers (see run-path.ts for what is checked after every step). Coverage of the
 * machine's states and transitions is measured on the running sockets.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createConnectionModel, createCoverageRecorder, formatCoverage } from "./kit/model";
import { createRig, type Rig, runPath } from "./run-path";
import { seededRandom } from "./seed";

const model = createConnectionModel();
const paths = model.paths();
const coverage = createCoverageRecorder();
let rig: Rig;

beforeEach(() => {
  vi.useFakeTimers();
  // Backoff jitter, the same on every run.
  vi.spyOn(Math, "random").mockImplementation(seededRandom(7));
  rig = createRig(model, coverage);
});

afterEach(() => {
  rig.dispose();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("every path of the connection machine, on the real facade", () => {
  it("has paths to run", () => {
    expect(paths.length).toBeGreaterThan(100);
  });

  for (const path of paths) {
    it(path.description, () => runPath(rig, model, path));
  }
});

describe("coverage measured on the running sockets", () => {
  it("entered every state and took every transition the machine declares", () => {
    const report = coverage.report();
    console.log(`model coverage: ${formatCoverage(report)}, paths ${paths.length}`);
    expect(report.states.missing).toEqual([]);
    expect(report.transitions.missing).toEqual([]);
    expect(report.states.total).toBeGreaterThan(10);
    expect(report.transitions.total).toBeGreaterThan(25);
  });
});
