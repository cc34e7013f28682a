import { describe, expect, it } from "vitest";
import { createClockWatch } from "../../machines/connection.socket";

/** Watches the wall clock the way an open socket does and records the jumps it reports. */
function watchClock(period: number, tolerance: number) {
  const jumps: number[] = [];
  const stop = createClockWatch(Date.now)({ period, tolerance }, (by) => jumps.push(by));
  return { jumps, stop };
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

  it("reports a wall clock that ran ahead of the timers' clock by more than the tolerance", async () => {
    let offset = 0;
    const jumps: number[] = [];
    const stop = createClockWatch(() => Date.now() + offset)({ period: 20, tolerance: 100 }, (by) => jumps.push(by));
    await new Promise((resolve) => setTimeout(resolve, 50));
    offset = 5_000; // the process "slept": the wall clock moved, the timers' clock did not
    await new Promise((resolve) => setTimeout(resolve, 50));
    offset = 4_000; // set back: never a jump
    await new Promise((resolve) => setTimeout(resolve, 50));
    stop();
    expect(jumps).toHaveLength(1);
    expect(jumps[0]).toBeGreaterThan(4_900);
  });

  it("shares one interval between watchers and stops it when the last one leaves", async () => {
    const watch = createClockWatch(Date.now);
    const before = process.getActiveResourcesInfo().filter((name) => name === "Timeout").length;
    const stopA = watch({ period: 30, tolerance: 100 }, () => {});
    const stopB = watch({ period: 30, tolerance: 100 }, () => {});
    expect(process.getActiveResourcesInfo().filter((name) => name === "Timeout").length).toBe(before + 1);
    stopA();
    stopB();
    expect(process.getActiveResourcesInfo().filter((name) => name === "Timeout").length).toBe(before);
  });
});
