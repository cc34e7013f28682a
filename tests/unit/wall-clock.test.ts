import { createActor, setup } from "xstate";
import { describe, expect, it } from "vitest";
import { createConnectionActors } from "../../machines/connection.actors";

/** Runs the wallClock actor as the child of a tiny parent that records what it sends back. */
function watchClock(period: number, tolerance: number) {
  const jumps: number[] = [];
  const { wallClock } = createConnectionActors();
  const parent = setup({ actors: { wallClock } }).createMachine({
    invoke: { src: "wallClock", input: { period, tolerance } },
    on: { "*": { actions: ({ event }) => jumps.push((event as { by?: number }).by ?? -1) } },
  });
  const actor = createActor(parent).start();
  return { jumps, stop: () => actor.stop() };
}

describe("the wall-clock watch", () => {
  it("does not mistake a blocked event loop (a long GC, a slow task) for a sleep", async () => {
    const watch = watchClock(50, 100);
    await new Promise((resolve) => setTimeout(resolve, 120));
    const until = Date.now() + 400;
    while (Date.now() < until) {
      // busy: the tick is late by ~400 ms, but the wall clock did not run ahead of the timers' clock
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    watch.stop();
    expect(watch.jumps).toEqual([]);
  });
});

