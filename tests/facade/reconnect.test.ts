import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ConnectionRejectedError,
  ConnectTimeoutError,
  ReconnectFailedError,
  TicketError,
} from "../../src/index";
import { type Bench, createBench, HangingWebSocket, record } from "../support/mock-harness";

const PATH = "/ws/chat/a";
let bench: Bench;

beforeEach(() => {
  vi.useFakeTimers();
  bench = createBench({ heartbeatInterval: 0, reconnectDelay: 1000, maxReconnectDelay: 30000 });
  bench.serve(PATH);
});
afterEach(() => {
  bench.manager.closeAll();
  bench.stop();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const openSocket = (options = {}) => bench.connect(PATH, options);

describe("reconnecting after a drop", () => {
  it("reconnects with backoff and a fresh ticket, announcing the attempt after the delay", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const socket = await openSocket();
    const states = record(socket.onStateChange);
    const attempts = record(socket.onReconnecting);
    bench.dropAll();
    await bench.advance(5);
    expect(socket.state).toBe("reconnecting");
    expect(socket.reconnectAttempt).toBe(1);
    expect(attempts).toEqual([]);
    await bench.advance(490); // backoff for attempt 1 with random 0 is 500 ms
    expect(attempts).toEqual([]);
    await bench.advance(70); // open, then confirmed 50 ms later
    expect(attempts).toEqual([1]);
    expect(socket.state).toBe("open");
    expect(states).toEqual(["reconnecting", "open"]);
    expect(bench.connections.map((c) => c.ticket)).toEqual(["tk-1", "tk-2"]);
    expect(socket.reconnectAttempt).toBe(0);
  });

  it("waits within [d/2, d] with d = min(max, base·2^(n−1))", async () => {
    const socket = await openSocket({ reconnectDelay: 100, maxReconnectDelay: 350, maxReconnectAttempts: 0 });
    bench.stop(); // every attempt now fails in the handshake
    const attemptTimes: number[] = [];
    socket.onReconnecting.subscribe(() => attemptTimes.push(Date.now()));
    const failTimes: number[] = [];
    socket.onStateChange.subscribe(() => failTimes.push(Date.now()));
    bench.dropAll();
    const start = Date.now();
    await bench.advance(20_000);
    // Each gap from failure to the next attempt lies in [d/2, d] (+ mock-socket's 4 ms per failure).
    const ceilings = [100, 200, 350, 350, 350];
    const gaps = attemptTimes.slice(0, 5).map((t, i) => t - (i === 0 ? start : attemptTimes[i - 1]!));
    gaps.forEach((gap, i) => {
      const d = ceilings[i]!;
      expect(gap).toBeGreaterThanOrEqual(d / 2);
      expect(gap).toBeLessThanOrEqual(d + 20);
    });
    expect(socket.state).toBe("reconnecting");
  });

  it("resets the attempt counter only after staying open for max(5000, reconnectDelay)", async () => {
    vi.spyOn(Math, "random").mockReturnValue(1);
    const socket = await openSocket();
    const attempts = record(socket.onReconnecting);
    // Drop right after every open: the counter keeps growing, so the delay does too.
    for (let i = 0; i < 3; i++) {
      bench.dropAll();
      await bench.advance(2 ** i * 1000 + 70);
    }
    expect(attempts).toEqual([1, 2, 3]);
    await bench.advance(4900);
    bench.dropAll();
    await bench.advance(8000 + 70);
    expect(attempts).toEqual([1, 2, 3, 4]); // not reset yet: 4.9 s < 5 s
    await bench.advance(5000);
    bench.dropAll();
    await bench.advance(1000 + 70);
    expect(attempts).toEqual([1, 2, 3, 4, 1]); // reset after 5 s of uptime
    expect(socket.state).toBe("open");
  });

  it("gives up after maxReconnectAttempts failed attempts with ReconnectFailedError", async () => {
    const socket = await openSocket({ maxReconnectAttempts: 2 });
    const errors = record(socket.onError);
    const states = record(socket.onStateChange);
    const attempts = record(socket.onReconnecting);
    bench.stop();
    bench.dropAll();
    await bench.advance(60_000);
    expect(attempts).toEqual([1, 2]);
    expect(socket.state).toBe("closed");
    expect(states.at(-1)).toBe("closed");
    const failure = errors.find((e) => e instanceof ReconnectFailedError) as ReconnectFailedError;
    expect(failure).toMatchObject({ name: "ReconnectFailedError", attempts: 2 });
    expect(failure.cause).toMatchObject({ code: 1000 }); // mock-socket fails a handshake with no server as 1000
    expect(bench.manager.connectionCount).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("tries a failing first connection once, then up to maxReconnectAttempts times, then rejects connect", async () => {
    bench.stop();
    const pending = bench.manager.connect(PATH, { maxReconnectAttempts: 3 });
    const error = pending.catch((e: unknown) => e);
    await bench.advance(10);
    expect(bench.manager.connectionCount).toBe(1);
    await bench.advance(60_000);
    expect(await error).toBeInstanceOf(ReconnectFailedError);
    expect(bench.ticketRequests).toHaveLength(4);
  });

  it("is reconnecting, not connecting, while the first connection keeps failing", async () => {
    bench.stop();
    const socket = bench.manager.open(PATH);
    const states = record(socket.onStateChange);
    await bench.advance(10);
    expect(socket.state).toBe("reconnecting");
    bench.serve(PATH);
    await bench.advance(1100);
    expect(states).toEqual(["reconnecting", "open"]);
    await expect(socket.ready).resolves.toBe(socket);
  });
});

describe("server close codes", () => {
  it("refreshes the ticket and reconnects at once after 4001; it counts as an attempt", async () => {
    const socket = await openSocket();
    const attempts = record(socket.onReconnecting);
    bench.dropAll(4001, "ticket expired");
    await bench.advance(5);
    expect(attempts).toEqual([1]);
    expect(socket.state).toBe("reconnecting");
    await bench.advance(60);
    expect(socket.state).toBe("open");
    expect(bench.connections.map((c) => c.ticket)).toEqual(["tk-1", "tk-2"]);
  });

  it("stops refreshing after 4001s once maxReconnectAttempts is used up", async () => {
    const socket = await openSocket({ maxReconnectAttempts: 2 });
    const errors = record(socket.onError);
    for (let i = 0; i < 3; i++) bench.refuseNext(4001);
    bench.dropAll(4001);
    await bench.advance(100);
    expect(socket.state).toBe("closed");
    expect(errors.at(-1)).toBeInstanceOf(ReconnectFailedError);
  });

  it.each([4003, 4004, 1008])("closes for good after %i with ConnectionRejectedError", async (code) => {
    const socket = await openSocket();
    const errors = record(socket.onError);
    bench.dropAll(code, "nope");
    await bench.advance(60_000);
    expect(socket.state).toBe("closed");
    expect(errors).toEqual([expect.any(ConnectionRejectedError)]);
    expect(errors[0]).toMatchObject({ name: "ConnectionRejectedError", code, reason: "nope" });
    expect(bench.connections).toHaveLength(1);
  });

  it("rejects connect with ConnectionRejectedError when refused on the first connection", async () => {
    bench.refuseNext(4003, "forbidden");
    const pending = bench.manager.connect(PATH);
    const error = pending.catch((e: unknown) => e);
    await bench.advance(20);
    expect(await error).toMatchObject({ name: "ConnectionRejectedError", code: 4003 });
    expect(bench.manager.connectionCount).toBe(0);
  });

  it("rejects connect when the refusal's close frame arrived inside the confirmation window but its close event after it", async () => {
    const socket = bench.manager.open(PATH);
    const error = socket.ready.catch((e: unknown) => e);
    await bench.advance(4 + 48); // open at 4 ms; 48 ms later the server starts closing
    expect(socket.state).toBe("connecting"); // not confirmed yet: never shown as open
    bench.dropAll(4003, "forbidden"); // readyState CLOSING now, the close event 4 ms later
    await bench.advance(2); // the 50 ms confirmation window ends here
    await bench.advance(10);
    expect(await error).toMatchObject({ name: "ConnectionRejectedError", code: 4003 });
  });

  it.each([1000, 1001, 1011, 4000, 4500])("reconnects with backoff after %i", async (code) => {
    vi.spyOn(Math, "random").mockReturnValue(1);
    const socket = await openSocket();
    bench.dropAll(code);
    await bench.advance(900);
    expect(socket.state).toBe("reconnecting");
    await bench.advance(200);
    expect(socket.state).toBe("open");
  });
});

describe("ticket endpoint failures", () => {
  it.each([401, 403])("stops with TicketError after %i and never retries", async (status) => {
    bench.answerTickets(status);
    const socket = bench.manager.open(PATH);
    const errors = record(socket.onError);
    await expect(socket.ready).rejects.toMatchObject({ name: "TicketError", status });
    await bench.advance(60_000);
    expect(socket.state).toBe("closed");
    expect(errors).toEqual([expect.any(TicketError)]);
    expect(bench.ticketRequests).toHaveLength(1);
    expect(bench.connections).toHaveLength(0);
  });

  it.each([500, 502, 503, 408, 429, "network", "malformed"] as const)(
    "treats %s as a failed attempt and retries with backoff",
    async (answer) => {
      vi.spyOn(Math, "random").mockReturnValue(0);
      bench.answerTickets(answer);
      const socket = bench.manager.open(PATH);
      const errors = record(socket.onError);
      await bench.advance(10);
      expect(socket.state).toBe("reconnecting");
      expect(errors[0]).toBeInstanceOf(TicketError);
      await bench.advance(580);
      expect(socket.state).toBe("open");
      expect(bench.ticketRequests).toHaveLength(2);
    },
  );

  it("abandons a ticket request that takes longer than connectTimeout", async () => {
    bench.answerTickets("hang");
    const socket = bench.manager.open(PATH, { connectTimeout: 2000 });
    const errors = record(socket.onError);
    await bench.advance(1990);
    expect(socket.state).toBe("connecting");
    await bench.advance(20);
    expect(socket.state).toBe("reconnecting");
    expect(errors).toEqual([expect.objectContaining({ name: "TicketError", status: 0, message: expect.stringMatching(/no answer within 2000 ms/) })]);
    await bench.advance(1100);
    expect(socket.state).toBe("open");
  });
});

describe("connect timeout", () => {
  it("abandons a handshake that takes longer than connectTimeout and retries", async () => {
    HangingWebSocket.instances = [];
    bench.holdNextHandshake();
    const socket = bench.manager.open(PATH, { connectTimeout: 3000 });
    const errors = record(socket.onError);
    await bench.advance(2990);
    expect(socket.state).toBe("connecting");
    await bench.advance(20);
    expect(socket.state).toBe("reconnecting");
    expect(HangingWebSocket.instances[0]!.closeCalls).toBe(1);
    expect(errors).toEqual([expect.any(ConnectTimeoutError)]);
    expect(errors[0]).toMatchObject({ name: "ConnectTimeoutError", timeout: 3000 });
    await bench.advance(1100);
    expect(socket.state).toBe("open");
    expect(bench.connections.map((c) => c.ticket)).toEqual(["tk-2"]);
  });
});
