/**
 * Clocks that jump and timers that sleep, with fake timers and a fake wall clock.
 *
 * Node's timers (and browsers') run on a monotonic clock that stands still while the
 * machine is suspended: after a laptop wakes, a heartbeat interval that was pending is
 * still pending for whatever was left of it, while the wall clock (`Date.now()`) has
 * jumped by the length of the sleep. `vi.setSystemTime()` moves the wall clock without
 * running a single timer, which is exactly that situation.
 *
 * The rules under test (docs/protocol.md §5, "Timers that sleep"):
 * 1. A timer that fires late does not by itself declare a link dead: a heartbeat
 *    timeout that fires more than LATE_TIMER_TOLERANCE after it was due sends a fresh
 *    ping and waits a full heartbeatTimeout again, once: the timeout of that second ping
 *    counts even if it is late too.
 * 2. A wall-clock jump (the wall clock ran ahead of the timers by more than
 *    LATE_TIMER_TOLERANCE within one CLOCK_CHECK_INTERVAL) makes an open, quiet socket
 *    ping at once instead of waiting out the rest of its heartbeat interval.
 * (Rule 3, a wall clock set back postpones nothing, is tested in tests/facade/heartbeat.test.ts.)
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CLOCK_CHECK_INTERVAL, LATE_TIMER_TOLERANCE } from "../../machines/index";
import type { ManagedWebSocket, SocketOptions } from "../../src/index";
import { type Bench, createBench, record } from "../support/mock-harness";
import { PING_FRAME, PONG_FRAME } from "../../machines/protocol";

const PATH = "/ws/chat/sleepy";
const MINUTE = 60_000;
const HEARTBEAT = { heartbeatInterval: 25_000, heartbeatTimeout: 10_000, reconnectDelay: 100 } as const;
let bench: Bench;

beforeEach(() => {
  vi.useFakeTimers();
  bench = createBench(HEARTBEAT);
  bench.serve(PATH);
  bench.setEcho(false);
});
afterEach(() => {
  bench.manager.closeAll();
  bench.stop();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

async function openSocket(options: SocketOptions = {}): Promise<ManagedWebSocket> {
  const pending = bench.manager.connect(PATH, options);
  await bench.advance(60);
  return pending;
}

/** The laptop sleeps: the wall clock moves on, no timer runs. */
function sleepFor(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}

const pingsSent = () => bench.last().frames.filter((frame) => frame === PING_FRAME).length;

describe("clocks that jump", () => {
  it("pings within one clock check of waking up instead of waiting out the heartbeat interval", async () => {
    const socket = await openSocket();
    await bench.advance(5_000);
    sleepFor(30 * MINUTE);
    await bench.advance(CLOCK_CHECK_INTERVAL + 10);
    expect(pingsSent()).toBe(1);
    // The server answered the ping: the link is healthy and stays open, with no second ping
    // until a whole interval of silence has passed again.
    expect(socket.state).toBe("open");
    await bench.advance(HEARTBEAT.heartbeatInterval - CLOCK_CHECK_INTERVAL - 100);
    expect(pingsSent()).toBe(1);
    expect(bench.connections).toHaveLength(1);
  });

  it("drops a link that died during the sleep within heartbeatTimeout of waking, not after a full interval", async () => {
    vi.spyOn(Math, "random").mockReturnValue(1);
    const socket = await openSocket();
    const states = record(socket.onStateChange);
    await bench.advance(2_000);
    bench.stall(); // the server forgot the connection while the laptop slept
    sleepFor(2 * 60 * MINUTE);
    const wokeAt = Date.now();
    await bench.advance(CLOCK_CHECK_INTERVAL + HEARTBEAT.heartbeatTimeout + 10);
    expect(states).toEqual(["reconnecting"]);
    expect(bench.connections[0]!.clientCloseCode).toBe(4000);
    expect(Date.now() - wokeAt).toBeLessThan(HEARTBEAT.heartbeatInterval);
    bench.stall(false);
    await bench.advance(200);
    expect(states).toEqual(["reconnecting", "open"]);
    expect(bench.connections.map((c) => c.ticket)).toEqual(["tk-1", "tk-2"]);
  });

  it("does not count a clock that is only a little ahead as a jump", async () => {
    await openSocket();
    await bench.advance(3_000);
    sleepFor(LATE_TIMER_TOLERANCE - 100);
    await bench.advance(3 * CLOCK_CHECK_INTERVAL);
    expect(pingsSent()).toBe(0);
  });

  it("does not count a clock set back as a jump", async () => {
    await openSocket();
    await bench.advance(3_000);
    sleepFor(-10 * MINUTE);
    await bench.advance(3 * CLOCK_CHECK_INTERVAL);
    expect(pingsSent()).toBe(0);
  });

  it("sends no ping after a jump when the heartbeat is disabled", async () => {
    const socket = await openSocket({ heartbeatInterval: 0 });
    await bench.advance(3_000);
    sleepFor(30 * MINUTE);
    await bench.advance(5 * CLOCK_CHECK_INTERVAL);
    expect(pingsSent()).toBe(0);
    expect(socket.state).toBe("open");
  });

  it("keeps the heartbeat on schedule when nothing jumps: the clock check alone never pings", async () => {
    await openSocket();
    await bench.advance(HEARTBEAT.heartbeatInterval - 100);
    expect(pingsSent()).toBe(0);
    await bench.advance(200);
    expect(pingsSent()).toBe(1);
  });
});

describe("timers that sleep", () => {
  it("keeps a healthy link open when its heartbeat timeout fires late and the pong follows", async () => {
    const socket = await openSocket();
    const states = record(socket.onStateChange);
    bench.stall(); // the answer is on its way but the tab is throttled
    await bench.advance(HEARTBEAT.heartbeatInterval + 10); // ping 1 is out
    expect(pingsSent()).toBe(1);
    // The throttled tab runs nothing for two minutes, then everything at once: the
    // timeout timer fires a long time after it was due, then the pong is read.
    sleepFor(2 * MINUTE);
    await bench.advance(HEARTBEAT.heartbeatTimeout);
    bench.stall(false);
    bench.last().socket.send(PONG_FRAME);
    await bench.advance(10);
    expect(pingsSent()).toBe(2); // the late timeout re-pinged instead of dropping
    expect(states).toEqual([]);
    expect(socket.state).toBe("open");
    expect(bench.connections).toHaveLength(1);
  });

  it("keeps a quiet link open when its heartbeat interval timer fires late", async () => {
    const socket = await openSocket();
    const states = record(socket.onStateChange);
    await bench.advance(HEARTBEAT.heartbeatInterval - 1_000);
    sleepFor(10 * MINUTE);
    await bench.advance(1_100); // interval timer fires (late by the wall clock): probe, ping, pong
    expect(pingsSent()).toBeGreaterThanOrEqual(1);
    await bench.advance(HEARTBEAT.heartbeatTimeout + 100);
    expect(states).toEqual([]);
    expect(socket.state).toBe("open");
  });

  // A second timeout that is late too counts: a process whose timers are always late is
  // busy, not asleep, and a dead link must not live on.
  it.each([
    ["on time", 0],
    ["late too (a process always busy, not asleep)", 2 * MINUTE],
  ])("still declares a really dead link dead after a late timeout: one re-ping, then 4000 when the next timeout fires %s", async (_, secondDelay) => {
    const socket = await openSocket();
    const states = record(socket.onStateChange);
    bench.stall();
    await bench.advance(HEARTBEAT.heartbeatInterval + 10);
    sleepFor(5 * MINUTE);
    await bench.advance(HEARTBEAT.heartbeatTimeout); // late: re-ping
    expect(pingsSent()).toBe(2);
    expect(states).toEqual([]);
    sleepFor(secondDelay);
    await bench.advance(HEARTBEAT.heartbeatTimeout + 10); // still silent: dead
    expect(bench.connections[0]!.frames.filter((frame) => frame === PING_FRAME)).toHaveLength(2);
    expect(states[0]).toBe("reconnecting");
    expect(bench.connections[0]!.clientCloseCode).toBe(4000);
  });

  it("allows the one late re-ping again once the link answered", async () => {
    const socket = await openSocket();
    const states = record(socket.onStateChange);
    for (let round = 1; round <= 2; round++) {
      bench.stall();
      await bench.advance(HEARTBEAT.heartbeatInterval + 10);
      sleepFor(2 * MINUTE);
      await bench.advance(HEARTBEAT.heartbeatTimeout); // late: re-ping, not a drop
      bench.stall(false);
      bench.last().socket.send(PONG_FRAME);
      await bench.advance(10);
      expect(pingsSent()).toBe(2 * round);
    }
    expect(states).toEqual([]);
    expect(socket.state).toBe("open");
  });
});
