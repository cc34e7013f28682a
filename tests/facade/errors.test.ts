import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ConnectionRejectedError,
  QueueFullError,
  ReconnectFailedError,
  SocketClosedError,
  TicketError,
} from "../../src/index";
import { PING_FRAME } from "../../machines/protocol";
import { FakeWebSocket } from "../support/fake-socket";
import { type Bench, createBench, record } from "../support/mock-harness";

const PATH = "/ws/chat/a";
let bench: Bench;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  bench?.manager.closeAll();
  bench?.stop();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("error classes", () => {
  it("each has name equal to its class name and the fields of docs/protocol.md §7", () => {
    const cause = new Error("root");
    expect(new TicketError(401, undefined, { cause })).toMatchObject({ name: "TicketError", status: 401, cause });
    expect(new ConnectionRejectedError(4003, "no")).toMatchObject({ name: "ConnectionRejectedError", code: 4003, reason: "no" });
    expect(new ReconnectFailedError(3)).toMatchObject({ name: "ReconnectFailedError", attempts: 3 });
    expect(new QueueFullError(10)).toMatchObject({ name: "QueueFullError" });
    expect(new SocketClosedError()).toMatchObject({ name: "SocketClosedError" });
    for (const error of [new TicketError(0), new QueueFullError(1), new SocketClosedError()]) {
      expect(error).toBeInstanceOf(Error);
    }
  });
});

describe("listeners that throw", () => {
  it("do not stop other listeners nor the connection, and are reported", async () => {
    const reported: unknown[] = [];
    vi.stubGlobal("reportError", (error: unknown) => reported.push(error));
    bench = createBench({ heartbeatInterval: 0 });
    bench.serve(PATH);
    const socket = bench.manager.open(PATH);
    const boom = new Error("listener bug");
    socket.onStateChange.subscribe(() => {
      throw boom;
    });
    const states = record(socket.onStateChange);
    socket.onMessage.subscribe(() => {
      throw boom;
    });
    const messages = record(socket.onMessage);
    await bench.advance(60);
    bench.last().socket.send("x");
    expect(states).toEqual(["open"]);
    expect(messages).toHaveLength(1);
    expect(reported).toEqual([boom, boom]);
    expect(socket.state).toBe("open");
  });

  it("falls back to console.error where reportError does not exist", async () => {
    vi.stubGlobal("reportError", undefined);
    const consoleError = vi.spyOn(console, "error").mockImplementation(() => {});
    bench = createBench({ heartbeatInterval: 0 });
    bench.serve(PATH);
    const socket = bench.manager.open(PATH);
    socket.onStateChange.subscribe(() => {
      throw new Error("x");
    });
    await bench.advance(60);
    expect(consoleError).toHaveBeenCalledWith(expect.stringContaining("listener threw"), expect.any(Error));
  });

  it("unsubscribe stops one listener and is safe to call twice", async () => {
    bench = createBench({ heartbeatInterval: 0 });
    bench.serve(PATH);
    const socket = bench.manager.open(PATH);
    const seen: string[] = [];
    const listener = (state: string) => seen.push(state);
    const unsubscribe = socket.onStateChange.subscribe(listener);
    socket.onStateChange.subscribe(listener);
    unsubscribe();
    unsubscribe();
    await bench.advance(60);
    expect(seen).toEqual(["open"]);
  });
});

describe("tickets stay secret", () => {
  it("hands onError a fresh error event, not the socket's own (its target.url holds the ticket)", async () => {
    bench = createBench({ heartbeatInterval: 0, WebSocket: LeakyErrorSocket as never });
    const socket = bench.manager.open(PATH);
    const errors = record(socket.onError);
    await bench.advance(60);
    expect(errors.length).toBeGreaterThan(0);
    const printed = errors.map((e) => `${inspect(e)} ${JSON.stringify(e)} ${(e as { message?: string }).message}`).join("\n");
    expect(printed).not.toContain("tk-");
    expect(errors[0]).toBeInstanceOf(Event);
    expect((errors[0] as Event).target).toBeNull();
    expect((errors[0] as unknown as { message: string }).message).toBe("Unexpected server response: 500 for ws://api.test/ws/chat/a?ticket=[redacted]");
  });

  it("never appear in url, errors or debug output", async () => {
    const logs: Array<[string, unknown]> = [];
    bench = createBench({
      heartbeatInterval: 1000,
      heartbeatTimeout: 100,
      reconnectDelay: 10,
      debug: (message, details) => logs.push([message, details]),
    });
    bench.serve(PATH);
    const socket = bench.manager.open(PATH, { params: { lang: "en" } });
    const errors = record(socket.onError);
    await bench.advance(60);
    bench.stall();
    await bench.advance(1200);
    bench.stall(false);
    bench.dropAll(4003);
    await bench.advance(100);
    expect(socket.state).toBe("closed");
    const tickets = bench.connections.map((c) => c.ticket!);
    expect(tickets.length).toBeGreaterThan(1);
    const printed = JSON.stringify({ url: socket.url, errors: errors.map((e) => [String(e), (e as Error).message]), logs });
    for (const ticket of tickets) expect(printed).not.toContain(ticket);
    expect(socket.url).toBe("ws://api.test/ws/chat/a?lang=en");
    expect(logs.length).toBeGreaterThan(5);
    expect(logs[0]![0]).toMatch(/^sockstate \/ws\/chat\/a: ticket/);
  });

  it("debug logs a frame refused by the schema, as onError hears it", async () => {
    const logs: string[] = [];
    const schema = { "~standard": { version: 1, vendor: "test", validate: () => ({ issues: [{ message: "not a message" }] }) } } as const;
    bench = createBench({ heartbeatInterval: 0, debug: (message) => logs.push(message) });
    bench.serve(PATH);
    const socket = bench.manager.open(PATH, { schema });
    const errors = record(socket.onError);
    await bench.advance(60);
    bench.last().socket.send("{}");
    await bench.advance(10);
    expect(errors).toEqual([expect.objectContaining({ name: "MessageValidationError" })]);
    expect(logs).toContain(`sockstate ${PATH}: error MessageValidationError: frame failed validation: not a message`);
  });

  it("debug: true logs with console.debug", async () => {
    const debug = vi.spyOn(console, "debug").mockImplementation(() => {});
    bench = createBench({ heartbeatInterval: 0, debug: true });
    bench.serve(PATH);
    bench.manager.open(PATH);
    await bench.advance(60);
    expect(debug).toHaveBeenCalledWith(expect.stringContaining("socket.open"), expect.objectContaining({ key: PATH }));
  });
});

describe("debug", () => {
  it("debug logs the facade's own errors too: queued messages dropped on close", async () => {
    const logs: string[] = [];
    bench = createBench({ heartbeatInterval: 0, debug: (message) => logs.push(message) });
    const socket = bench.manager.open(PATH);
    const errors = record(socket.onError);
    socket.send("a");
    socket.send("b");
    socket.close();
    await bench.advance(10);
    expect(errors).toEqual([expect.any(SocketClosedError)]);
    expect(logs).toContain(`sockstate ${PATH}: error SocketClosedError: the socket was closed with 2 queued messages unsent`);
  });
});

describe("inspection", () => {
  it("forwards the inspect option to every socket's actor, named after its key", async () => {
    const events: Array<{ type: string; actorId?: string }> = [];
    bench = createBench({ heartbeatInterval: 0, inspect: (event) => events.push({ type: event.type, actorId: (event.actorRef as { id?: string }).id }) });
    bench.serve(PATH);
    bench.serve("/ws/chat/b");
    bench.manager.connectToChat("a");
    bench.manager.connectToChat("b", { inspect: { next: (event) => events.push({ type: `own:${event.type}`, actorId: (event.actorRef as { id?: string }).id }) } });
    await bench.advance(60);
    expect(events.some((e) => e.type === "@xstate.snapshot" && e.actorId === "chat:a")).toBe(true);
    expect(events.some((e) => e.type === "own:@xstate.snapshot" && e.actorId === "chat:b")).toBe(true);
    expect(events.some((e) => e.type === "@xstate.snapshot" && e.actorId === "chat:b")).toBe(false);
  });
});

/** A socket whose `onopen` cannot be set: opening it makes the connection actor's transition throw. */
class BrokenSocket extends FakeWebSocket {
  static readonly failure = new Error("broken socket");
  constructor(url: string) {
    super(url);
    Object.defineProperty(this, "onopen", {
      set() {
        throw BrokenSocket.failure;
      },
    });
  }
  send(): void {}
  close(): void {}
}

describe("a connection machine that fails", () => {
  it.each([
    ["in a shared actor system", {}],
    ["in an inspected socket's own system", { inspect: () => {} }],
  ])("reports its error on onError, rejects ready with it and ends like a closed socket (%s)", async (_, options) => {
    bench = createBench({ WebSocket: BrokenSocket as never, heartbeatInterval: 0 });
    const socket = bench.manager.open(PATH, options);
    const errors = record(socket.onError);
    const ready = socket.ready.catch((error: unknown) => error);
    await bench.advance(10);
    expect(errors).toEqual([BrokenSocket.failure]);
    expect(await ready).toBe(BrokenSocket.failure);
    expect(bench.manager.open(PATH)).not.toBe(socket);
  });
});

/** A socket that fails its handshake with an error event exposing the URL, as `ws` does. */
class LeakyErrorSocket extends FakeWebSocket {
  constructor(url: string) {
    super(url);
    setTimeout(() => {
      this.readyState = 3;
      this.onerror?.({ type: "error", target: this, message: `Unexpected server response: 500 for ${url}` });
      this.onclose?.({ code: 1006, reason: "", wasClean: false });
    }, 4);
  }
  send(): void {}
  close(): void {}
}

/** Opens, greets, and breaks the connection actor on its first heartbeat ping. */
class PingBreaksSocket extends FakeWebSocket {
  static readonly failure = new Error("ping broke");
  static latest: PingBreaksSocket | undefined;
  closed = false;
  constructor(url: string) {
    super(url);
    PingBreaksSocket.latest = this;
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.({});
      this.onmessage?.({ data: "hello" });
    }, 1);
  }
  send(data: unknown): void {
    if (data === PING_FRAME) throw PingBreaksSocket.failure;
  }
  close(): void {
    this.closed = true;
    this.readyState = 3;
  }
}

describe("a connection machine that fails while open", () => {
  it("lets go of its socket: closed, no more frames delivered, no clock ticker left running", async () => {
    bench = createBench({ WebSocket: PingBreaksSocket as never, heartbeatInterval: 1000, heartbeatTimeout: 1000 });
    const socket = bench.manager.open(PATH);
    const errors = record(socket.onError);
    const messages = record(socket.onMessage);
    await bench.advance(10);
    expect(socket.state).toBe("open");
    await bench.advance(1000);
    expect(errors).toEqual([PingBreaksSocket.failure]);
    expect(socket.state).toBe("closed");
    const ws = PingBreaksSocket.latest!;
    expect(ws.closed).toBe(true);
    expect(ws.onmessage).toBeNull();
    expect(messages).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("an attempt's token provider", () => {
  it("is called once the attempt was announced: after onReconnecting, with the socket reconnecting", async () => {
    const heard: string[] = [];
    let socket: { state: string } | undefined;
    bench = createBench({
      heartbeatInterval: 0,
      getAuthToken: () => {
        heard.push(`token while ${socket?.state}`);
        return "t";
      },
    });
    socket = await bench.connect(PATH);
    (socket as ReturnType<Bench["manager"]["open"]>).onReconnecting.subscribe((attempt) => heard.push(`onReconnecting ${attempt}`));
    heard.length = 0;
    bench.dropAll(4001);
    await bench.advance(10);
    expect(heard.slice(0, 2)).toEqual(["onReconnecting 1", "token while reconnecting"]);
  });
});
