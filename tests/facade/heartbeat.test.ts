import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Bench, createBench, record } from "../support/mock-harness";
import { PING_FRAME } from "../../machines/protocol";

const PATH = "/ws/chat/a";
let bench: Bench;

/** A bench serving PATH without echo, with a 1000/500 ms heartbeat. */
function startBench(): void {
  bench = createBench({ heartbeatInterval: 1000, heartbeatTimeout: 500, reconnectDelay: 100 });
  bench.serve(PATH);
  bench.setEcho(false);
}

beforeEach(() => {
  vi.useFakeTimers();
  startBench();
});
afterEach(() => {
  bench.manager.closeAll();
  bench.stop();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const openSocket = (options = {}) => bench.connect(PATH, options);

describe("heartbeat", () => {
  it("pings after heartbeatInterval of inbound silence and hides the pong from onMessage", async () => {
    const socket = await openSocket();
    const messages = record(socket.onMessage);
    const opened = Date.now() - 60 + 4 + 50; // open 4 ms into the 60 ms, confirmed (live) 50 ms later
    await bench.advance(opened + 1000 - Date.now() - 5);
    expect(bench.last().frames).toEqual([]);
    await bench.advance(15);
    expect(bench.last().frames).toEqual([PING_FRAME]);
    expect(messages).toEqual([]);
    expect(socket.state).toBe("open");
  });

  it("counts any inbound frame as liveness: no ping while the server talks", async () => {
    const socket = await openSocket();
    const messages = record(socket.onMessage);
    for (let i = 0; i < 10; i++) {
      await bench.advance(600);
      bench.last().socket.send(`data-${i}`);
    }
    expect(bench.last().frames).toEqual([]);
    expect(messages).toHaveLength(10);
    await bench.advance(1100);
    expect(bench.last().frames).toEqual([PING_FRAME]);
  });

  it("declares the link dead after heartbeatTimeout without a frame, closes it with 4000 and reconnects with a fresh ticket", async () => {
    vi.spyOn(Math, "random").mockReturnValue(1);
    const socket = await openSocket();
    const states = record(socket.onStateChange);
    bench.stall();
    await bench.advance(1000 + 500 + 20);
    expect(states).toEqual(["reconnecting"]);
    expect(bench.connections[0]!.clientCloseCode).toBe(4000);
    bench.stall(false);
    await bench.advance(200);
    expect(states).toEqual(["reconnecting", "open"]);
    expect(bench.connections.map((c) => c.ticket)).toEqual(["tk-1", "tk-2"]);
  });

  it("accepts any frame, not only a pong, as the answer to a ping", async () => {
    const socket = await openSocket();
    bench.stall();
    await bench.advance(1000);
    bench.last().socket.send("late data");
    await bench.advance(600);
    expect(socket.state).toBe("open");
  });

  it("does nothing when heartbeatInterval is 0", async () => {
    const socket = await openSocket({ heartbeatInterval: 0 });
    bench.stall();
    await bench.advance(120_000);
    expect(bench.last().frames).toEqual([]);
    expect(socket.state).toBe("open");
  });

  it("delivers a text frame that only looks like a pong", async () => {
    const socket = await openSocket();
    const messages = record(socket.onMessage);
    bench.last().socket.send('{"type": "pong"}');
    bench.last().socket.send('{"type":"pong","x":1}');
    expect(messages).toHaveLength(2);
  });

  it("does not declare a healthy link dead when the timeout timer fires late (slept or throttled)", async () => {
    const socket = await openSocket();
    const states = record(socket.onStateChange);
    bench.stall();
    await bench.advance(1000); // ping sent
    // The process sleeps: the clock jumps 60 s while the timer has not fired yet.
    vi.setSystemTime(Date.now() + 60_000);
    await bench.advance(510);
    expect(socket.state).toBe("open"); // a second ping, a fresh timeout
    expect(states).toEqual([]);
    expect(bench.last().frames).toEqual([PING_FRAME, PING_FRAME]);
    await bench.advance(510);
    expect(states[0]).toBe("reconnecting"); // nothing came back on time this time
    expect(bench.connections[0]!.clientCloseCode).toBe(4000);
  });
});

describe("a wall clock set back (NTP, by hand)", () => {
  it("postpones neither the ping nor the drop of a dead link", async () => {
    vi.spyOn(Math, "random").mockReturnValue(1);
    const socket = await openSocket();
    const states = record(socket.onStateChange);
    bench.stall();
    await bench.advance(300);
    vi.setSystemTime(Date.now() - 600_000); // ten minutes back
    await bench.advance(760);
    expect(bench.last().frames).toEqual([PING_FRAME]); // after the interval, as if nothing happened
    await bench.advance(520);
    expect(states[0]).toBe("reconnecting");
    expect(bench.connections[0]!.clientCloseCode).toBe(4000);
  });

  it("does not postpone the next ping of a link that went quiet after a frame", async () => {
    const socket = await openSocket();
    await bench.advance(300);
    bench.last().socket.send("data"); // the link was active 300 ms ago when the interval ends
    vi.setSystemTime(Date.now() - 600_000);
    await bench.advance(1000 + 10);
    expect(bench.last().frames).toEqual([PING_FRAME]);
    expect(socket.state).toBe("open");
  });
});

describe("fake timers that leave performance.now() running in real time (vitest 2's default)", () => {
  it("still pings after heartbeatInterval of silence and drops a dead link", async () => {
    bench.manager.closeAll();
    bench.stop();
    vi.useRealTimers();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
    startBench();
    const socket = await openSocket();
    const states = record(socket.onStateChange);
    bench.stall();
    await bench.advance(1000 + 10);
    expect(bench.connections[0]!.frames).toEqual([PING_FRAME]);
    await bench.advance(500 + 10);
    expect(states[0]).toBe("reconnecting");
    expect(bench.connections[0]!.clientCloseCode).toBe(4000);
  });
});

describe("browser wake-ups (docs/protocol.md §8)", () => {
  function fakeBrowser() {
    const documentTarget = new EventTarget() as EventTarget & { visibilityState: string };
    documentTarget.visibilityState = "visible";
    const windowTarget = new EventTarget();
    vi.stubGlobal("document", documentTarget);
    vi.stubGlobal("addEventListener", windowTarget.addEventListener.bind(windowTarget));
    vi.stubGlobal("removeEventListener", windowTarget.removeEventListener.bind(windowTarget));
    const add = vi.spyOn(documentTarget, "addEventListener");
    const remove = vi.spyOn(documentTarget, "removeEventListener");
    return { documentTarget, windowTarget, add, remove };
  }

  it("pings at once when the page becomes visible", async () => {
    const { documentTarget } = fakeBrowser();
    await openSocket();
    await bench.advance(300);
    documentTarget.visibilityState = "hidden";
    documentTarget.dispatchEvent(new Event("visibilitychange"));
    expect(bench.last().frames).toEqual([]);
    documentTarget.visibilityState = "visible";
    documentTarget.dispatchEvent(new Event("visibilitychange"));
    await bench.advance(5);
    expect(bench.last().frames).toEqual([PING_FRAME]);
  });

  it("attempts at once when the network comes back during a backoff", async () => {
    const { windowTarget } = fakeBrowser();
    vi.spyOn(Math, "random").mockReturnValue(1);
    const socket = await openSocket({ reconnectDelay: 20_000, maxReconnectDelay: 20_000 });
    const attempts = record(socket.onReconnecting);
    bench.dropAll();
    await bench.advance(10);
    expect(socket.state).toBe("reconnecting");
    windowTarget.dispatchEvent(new Event("online"));
    expect(attempts).toEqual([1]);
    await bench.advance(70);
    expect(socket.state).toBe("open");
  });

  it("does not ping on a wake-up when the heartbeat is disabled", async () => {
    const { windowTarget } = fakeBrowser();
    const socket = await openSocket({ heartbeatInterval: 0 });
    windowTarget.dispatchEvent(new Event("online"));
    await bench.advance(60_000);
    expect(bench.last().frames).toEqual([]);
    expect(socket.state).toBe("open");
  });

  it("removes its listeners when the socket closes", async () => {
    const { add, remove } = fakeBrowser();
    const socket = await openSocket();
    expect(add).toHaveBeenCalledWith("visibilitychange", expect.any(Function));
    socket.close();
    await bench.advance(10);
    expect(remove).toHaveBeenCalledWith("visibilitychange", add.mock.calls[0]![1]);
  });

  it("adds one listener per client however many sockets it has (no MaxListenersExceededWarning), removed with its last socket", async () => {
    const { add, remove, documentTarget } = fakeBrowser();
    const sockets = [];
    for (let i = 0; i < 20; i++) sockets.push(bench.manager.open(`/ws/chat/many-${i}`));
    await bench.advance(100);
    expect(add).toHaveBeenCalledTimes(1);
    for (const socket of sockets.slice(1)) socket.close();
    await bench.advance(100);
    expect(remove).not.toHaveBeenCalled();
    // The one listener wakes the sockets still there.
    documentTarget.dispatchEvent(new Event("visibilitychange"));
    sockets[0]!.close();
    await bench.advance(100);
    expect(remove).toHaveBeenCalledTimes(1);
    expect(remove).toHaveBeenCalledWith("visibilitychange", add.mock.calls[0]![1]);
  });
});
