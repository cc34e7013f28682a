/**
 * The first mistakes an app developer makes fail loudly and never hang (docs/protocol.md
 * §2, §4, §5, §7): a wrong apiUrl, a broken token provider, a server that is down, a
 * refused upgrade. Fake timers and the mock-socket bench.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ConnectTimeoutError,
  ReconnectFailedError,
  TicketError,
  type ClientOptions,
  type WebSocketState,
} from "../../src/index";
import { type Bench, createBench, record, type TicketAnswer } from "../support/mock-harness";

const PATH = "/ws/chat/room1";
let bench: Bench;

beforeEach(() => {
  vi.useFakeTimers();
  vi.spyOn(Math, "random").mockReturnValue(1);
});
afterEach(() => {
  bench.manager.closeAll();
  bench.stop();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

/** A settled-or-not view of a promise, readable at any time. */
function watch<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

describe("ticket endpoint client errors are terminal", () => {
  it.each([404, 400, 405, 422])("connectToChat rejects with TicketError(%i) at the first answer", async (status) => {
    bench = createBench();
    bench.serve(PATH);
    bench.answerTickets(status);
    const outcome = watch(bench.manager.connectToChat("room1"));
    await bench.advance(0);
    expect(outcome.settled).toBe(true);
    expect(outcome.error).toBeInstanceOf(TicketError);
    expect(outcome.error).toMatchObject({ name: "TicketError", status });
    expect((outcome.error as Error).message).toContain(`ticket request for ${PATH} failed: POST http://api.test/ws/ticket answered ${status}`);
    await bench.advance(60_000);
    expect(bench.ticketRequests).toHaveLength(1);
    expect(bench.manager.connectionCount).toBe(0);
  });

  it("says to check apiUrl after a 404", async () => {
    bench = createBench();
    bench.answerTickets(404);
    const error = await bench.manager.connectToChat("room1").catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      "ticket request for /ws/chat/room1 failed: POST http://api.test/ws/ticket answered 404; check apiUrl (http://api.test): the ticket endpoint is POST {apiUrl}/ws/ticket",
    );
  });

  it.each([408, 429, 500, 503])("retries %i with backoff", async (status) => {
    bench = createBench({ reconnectDelay: 200, maxReconnectDelay: 200 });
    bench.serve(PATH);
    bench.answerTickets(status);
    const outcome = watch(bench.manager.connectToChat("room1"));
    await bench.advance(10);
    expect(outcome.settled).toBe(false);
    await bench.advance(300);
    expect(bench.ticketRequests).toHaveLength(2);
    expect(outcome.value?.isOpen).toBe(true);
  });
});

/** A first connection that can never succeed, and the failure it reports each attempt. */
const NEVER: Array<{ name: string; options: Partial<ClientOptions>; answers?: TicketAnswer[]; failure: RegExp; status: number }> = [
  {
    name: "a getAuthToken that throws",
    options: {
      getAuthToken: () => {
        throw new Error("no session");
      },
    },
    failure: /^ticket request for \/ws\/chat\/room1 not sent: the token provider \(getAuthToken\) failed: no session$/,
    status: 0,
  },
  {
    name: "a getAuthToken that rejects",
    options: { getAuthToken: () => Promise.reject(new Error("refresh failed")) },
    failure: /the token provider \(getAuthToken\) failed: refresh failed$/,
    status: 0,
  },
  {
    name: "a getAuthToken that rejects with a value that cannot be made a string",
    options: { getAuthToken: () => Promise.reject(Object.create(null)) },
    failure: /the token provider \(getAuthToken\) failed: \[object Object\]$/,
    status: 0,
  },
  {
    name: "a getAuthToken that never settles",
    options: { getAuthToken: () => new Promise<string>(() => {}) },
    failure: /not sent: the token provider \(getAuthToken\) did not settle within 1000 ms \(connectTimeout\)$/,
    status: 0,
  },
  {
    name: "a server that is down",
    options: {},
    answers: Array<TicketAnswer>(20).fill("network"),
    failure: /failed: POST http:\/\/api\.test\/ws\/ticket got no answer: fetch failed$/,
    status: 0,
  },
  {
    name: "a ticket endpoint answering HTML with 200",
    options: {},
    answers: Array<TicketAnswer>(20).fill("malformed"),
    failure: /failed: POST http:\/\/api\.test\/ws\/ticket answered 200 with a body that is not JSON.*check apiUrl/,
    status: 200,
  },
];

describe("connect* never waits forever (openTimeout)", () => {
  const TIMING = { connectTimeout: 1000, reconnectDelay: 200, maxReconnectDelay: 200, openTimeout: 3000 };

  it.each(NEVER)("$name: connectToChat rejects with ConnectTimeoutError at openTimeout, cause the last failure", async (scenario) => {
    const lines: string[] = [];
    bench = createBench({ ...TIMING, ...scenario.options, debug: (line) => lines.push(line) });
    if (scenario.answers) bench.answerTickets(...scenario.answers);
    const outcome = watch(bench.manager.connectToChat("room1"));
    await bench.advance(2999);
    expect(outcome.settled).toBe(false);
    await bench.advance(1);
    expect(outcome.settled).toBe(true);
    const error = outcome.error as ConnectTimeoutError;
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect(error).toMatchObject({ name: "ConnectTimeoutError", timeout: 3000, step: "open" });
    expect(error.cause).toBeInstanceOf(TicketError);
    expect(error.cause).toMatchObject({ status: scenario.status, message: expect.stringMatching(scenario.failure) });
    expect(error.message).toContain("no open connection for /ws/chat/room1 within 3000 ms (openTimeout); last failure: TicketError: ");
    // debug printed every failure with its name, status and message, and the timeout.
    const failures = lines.filter((line) => line.startsWith("sockstate chat:room1: error TicketError"));
    expect(failures.length).toBeGreaterThanOrEqual(2);
    for (const line of failures) expect(line).toMatch(new RegExp(`status ${scenario.status}: .*`));
    expect(lines.filter((line) => line.includes("error ConnectTimeoutError: no open connection"))).toHaveLength(1);
    expect(bench.manager.connectionCount).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each(NEVER)("$name: onError reports each failure with its reason", async (scenario) => {
    bench = createBench({ ...TIMING, ...scenario.options });
    if (scenario.answers) bench.answerTickets(...scenario.answers);
    const socket = bench.manager.open(PATH);
    const errors = record(socket.onError);
    await bench.advance(2500);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    for (const error of errors) {
      expect(error).toBeInstanceOf(TicketError);
      expect((error as Error).message).toMatch(scenario.failure);
    }
  });

  it("a token provider that throws is the cause of the TicketError", async () => {
    const thrown = new Error("no session");
    bench = createBench({
      ...TIMING,
      getAuthToken: () => {
        throw thrown;
      },
    });
    const outcome = watch(bench.manager.connectToChat("room1"));
    await bench.advance(3000);
    expect(((outcome.error as ConnectTimeoutError).cause as TicketError).cause).toBe(thrown);
  });

  it("open() has no openTimeout: it keeps trying under its policy", async () => {
    bench = createBench({ ...TIMING });
    bench.answerTickets(...Array<TicketAnswer>(100).fill("network"));
    const socket = bench.manager.open(PATH);
    await bench.advance(20_000);
    expect(socket.state).toBe("reconnecting");
  });

  it("openTimeout: 0 waits as the policy says: forever, or until attempts run out", async () => {
    bench = createBench({ ...TIMING, openTimeout: 0 });
    bench.answerTickets(...Array<TicketAnswer>(1000).fill("network"));
    const forever = watch(bench.manager.connectToChat("room1", { reconnectDelay: 5000, maxReconnectDelay: 5000 }));
    const bounded = watch(bench.manager.connectToChat("room2", { maxReconnectAttempts: 3 }));
    await bench.advance(60_000);
    expect(forever.settled).toBe(false);
    expect(bounded.error).toBeInstanceOf(ReconnectFailedError);
    expect((bounded.error as Error).message).toMatch(/^gave up after 3 reconnect attempts; last failure: TicketError: ticket request for \/ws\/chat\/room2 failed/);
  });

  it("leaves no openTimeout timer behind: not after the first open, not after close()", async () => {
    bench = createBench({ ...TIMING, heartbeatInterval: 0 });
    const socket = await bench.connect(PATH);
    await bench.advance(10_000); // past stableUptime
    expect(socket.isOpen).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    const pending = bench.manager.connectToChat("other");
    pending.catch(() => undefined);
    bench.manager.closeAll();
    await bench.advance(10);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a connection confirmed in time is not closed by openTimeout later", async () => {
    bench = createBench({ ...TIMING });
    const socket = await bench.connect(PATH);
    bench.stop(); // from now on every attempt fails
    bench.dropAll();
    await bench.advance(10_000);
    expect(socket.state).toBe("reconnecting");
  });
});

describe("open means accepted (docs/protocol.md §4)", () => {
  /** The public state at every millisecond, and every onStateChange. */
  async function sample(ms: number, socket: { state: WebSocketState; isOpen: boolean }) {
    const seen = new Set<string>();
    for (let t = 0; t < ms; t++) {
      seen.add(socket.state);
      if (socket.isOpen) seen.add("isOpen");
      await bench.advance(1);
    }
    return seen;
  }

  it.each([4003, 4004, 1008])("a refused upgrade (%i) never shows open", async (code) => {
    bench = createBench();
    bench.serve(PATH);
    bench.refuseNext(code, "refused");
    const socket = bench.manager.open(PATH);
    const states = record(socket.onStateChange);
    const seen = await sample(200, socket);
    expect(states).toEqual(["closed"]);
    expect([...seen]).not.toContain("open");
    expect([...seen]).not.toContain("isOpen");
  });

  it("a server refusing every ticket with 4001 never shows open", async () => {
    bench = createBench({ maxReconnectAttempts: 3 });
    bench.serve(PATH);
    for (let i = 0; i < 4; i++) bench.refuseNext(4001, "ticket rejected");
    const socket = bench.manager.open(PATH);
    const states = record(socket.onStateChange);
    const seen = await sample(300, socket);
    expect(states).toEqual(["reconnecting", "closed"]);
    expect([...seen]).not.toContain("open");
    expect([...seen]).not.toContain("isOpen");
    expect(bench.connections).toHaveLength(4);
  });

  it("an accepted connection is open 50 ms after the upgrade, and connect resolves then", async () => {
    bench = createBench();
    bench.serve(PATH);
    const socket = bench.manager.open(PATH);
    const outcome = watch(socket.ready);
    await bench.advance(5); // the upgrade is accepted at 4 ms
    expect(bench.connections).toHaveLength(1);
    expect(socket.state).toBe("connecting");
    await bench.advance(48);
    expect(socket.state).toBe("connecting");
    expect(outcome.settled).toBe(false);
    await bench.advance(2);
    expect(socket.state).toBe("open");
    expect(outcome.value).toBe(socket);
  });

  it("is open at once when the server's first frame comes earlier, and its listeners already see open", async () => {
    bench = createBench();
    bench.serve(PATH);
    const socket = bench.manager.open(PATH);
    const seenByListener: Array<[string, boolean]> = [];
    socket.onMessage.subscribe((event) => seenByListener.push([event.data as string, socket.isOpen]));
    const states = record(socket.onStateChange);
    await bench.advance(5);
    expect(socket.state).toBe("connecting");
    bench.last().socket.send("welcome");
    await bench.advance(5); // mock-socket delivers a frame 4 ms after it is sent
    expect(seenByListener).toEqual([["welcome", true]]);
    expect(states).toEqual(["open"]);
    await expect(socket.ready).resolves.toBe(socket);
  });

  it("sends made before confirmation go out once each, in order, before anything sent later", async () => {
    bench = createBench();
    bench.serve(PATH);
    bench.setEcho(false);
    const socket = bench.manager.open(PATH);
    socket.send("1 while connecting");
    await bench.advance(5);
    expect(socket.state).toBe("connecting"); // accepted, not confirmed
    socket.send("2 while confirming");
    expect(socket.queuedMessages).toBe(2);
    expect(bench.last().frames).toEqual([]);
    await bench.advance(50);
    expect(socket.isOpen).toBe(true);
    socket.send("3 once open");
    await bench.advance(10);
    expect(bench.last().frames).toEqual(["1 while connecting", "2 while confirming", "3 once open"]);
  });

  it("a refused upgrade loses nothing queued: the messages stay for the next connection", async () => {
    bench = createBench({ reconnectDelay: 100, maxReconnectDelay: 100 });
    bench.serve(PATH);
    bench.setEcho(false);
    bench.refuseNext(4001);
    const socket = bench.manager.open(PATH);
    socket.send("hello");
    await bench.advance(200);
    expect(bench.connections).toHaveLength(2);
    expect(bench.connections[0]!.frames).toEqual([]);
    expect(bench.connections[1]!.frames).toEqual(["hello"]);
  });
});

describe("same-key replacement (docs/protocol.md §2)", () => {
  it("the replaced socket's subscribers see closing and closed; it stops counting at once; closeAll() still closes it", async () => {
    bench = createBench();
    const first = await bench.connect(PATH, {}, "chat:room1");
    const states = record(first.onStateChange);
    bench.stall(); // the server will not answer the close: the old socket stays closing
    const second = bench.manager.open(PATH, undefined, "chat:room1");
    expect(states).toEqual(["closing"]);
    expect(bench.manager.connectionCount).toBe(1);
    bench.manager.closeAll();
    expect(bench.manager.connectionCount).toBe(0);
    expect(second.state).toBe("closed");
    await bench.advance(20_000);
    expect(states).toEqual(["closing", "closed"]);
    expect(first.state).toBe("closed");
  });

  it("a replaced socket that is still connecting reports its queued messages, then loses its listeners", async () => {
    bench = createBench();
    const first = bench.manager.open(PATH, undefined, "chat:room1");
    const states = record(first.onStateChange);
    const errors = record(first.onError);
    first.send("never sent");
    bench.manager.open(PATH, undefined, "chat:room1");
    expect(states).toEqual(["closed"]);
    expect(errors).toEqual([expect.objectContaining({ name: "SocketClosedError" })]);
    await expect(first.ready).rejects.toMatchObject({ name: "SocketClosedError" });
  });
});

describe("messages that help (docs/protocol.md §7)", () => {
  it("ReconnectFailedError quotes the close that ended the last attempt", async () => {
    bench = createBench({ maxReconnectAttempts: 1, reconnectDelay: 100, maxReconnectDelay: 100 });
    const socket = await bench.connect(PATH);
    const errors = record(socket.onError);
    bench.stop();
    bench.dropAll(1011, "server error");
    await bench.advance(5_000);
    const failed = errors.find((error) => error instanceof ReconnectFailedError)!;
    expect(failed.message).toMatch(/^gave up after 1 reconnect attempt; last failure: closed with code \d{4}/);
  });
});
