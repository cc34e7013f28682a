import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { QueueFullError, SocketClosedError } from "../../src/index";
import { type Bench, createBench, record } from "../support/mock-harness";

const PATH = "/ws/chat/a";

let bench: Bench;
beforeEach(() => {
  vi.useFakeTimers();
  bench = createBench({ heartbeatInterval: 0 });
  bench.serve(PATH);
});
afterEach(() => {
  bench.manager.closeAll();
  bench.stop();
  vi.useRealTimers();
});

const openChat = (id = "a", options = {}) => bench.connect(`/ws/chat/${id}`, options, `chat:${id}`);

describe("opening", () => {
  it("is connecting until the first open, then open; connect resolves once open", async () => {
    const socket = bench.manager.open(PATH);
    const states = record(socket.onStateChange);
    expect(socket.state).toBe("connecting");
    expect(socket.isOpen).toBe(false);
    await bench.advance(10);
    // The upgrade is accepted, but open only once confirmed (docs/protocol.md §4).
    expect(socket.state).toBe("connecting");
    let resolved = false;
    void socket.ready.then(() => (resolved = true));
    await bench.advance(1);
    expect(resolved).toBe(false); // not until the server had its chance to refuse
    await bench.advance(50);
    expect(socket.state).toBe("open");
    expect(resolved).toBe(true);
    await expect(socket.ready).resolves.toBe(socket);
    expect(socket.isOpen).toBe(true);
    expect(socket.reconnectAttempt).toBe(0);
    expect(states).toEqual(["open"]);
  });

  it("fetches a ticket for the path before it opens", async () => {
    await openChat();
    expect(bench.ticketRequests).toHaveLength(1);
    expect(bench.ticketRequests[0]!.body).toEqual({ path: PATH });
    expect(bench.last().ticket).toBe("tk-1");
  });

  it("delivers data frames to onMessage", async () => {
    const socket = await openChat();
    const messages = record(socket.onMessage);
    bench.last().socket.send('{"hello":1}');
    expect(messages.map((m) => m.data)).toEqual(['{"hello":1}']);
  });
});

describe("sending", () => {
  it("sends at once when open", async () => {
    const socket = await openChat();
    socket.send("now");
    await bench.advance(10);
    expect(bench.last().frames).toEqual(["now"]);
  });

  it("queues while connecting and flushes in order, before anything sent later", async () => {
    const socket = bench.manager.open(PATH);
    socket.send("q1");
    socket.send("q2");
    expect(socket.queuedMessages).toBe(2);
    socket.onStateChange.subscribe((state) => {
      if (state === "open") socket.send("after-open");
    });
    await bench.advance(20);
    expect(bench.last().frames).toEqual([]); // held until the server had its chance to refuse
    await bench.advance(50);
    expect(bench.last().frames).toEqual(["q1", "q2", "after-open"]);
    expect(socket.queuedMessages).toBe(0);
  });

  it("keeps queue order across a reconnect", async () => {
    const socket = await openChat("a", { reconnectDelay: 100 });
    bench.dropAll();
    await bench.advance(10);
    expect(socket.state).toBe("reconnecting");
    socket.send("r1");
    socket.send("r2");
    await bench.advance(200);
    expect(socket.state).toBe("open");
    socket.send("r3");
    await bench.advance(10);
    expect(bench.last().frames).toEqual(["r1", "r2", "r3"]);
    expect(bench.connections[0]!.frames).toEqual([]);
  });

  it("does not flush queued messages into a connection the server refuses at once; the next one gets them", async () => {
    const socket = bench.manager.open(PATH);
    socket.send("m1");
    socket.send("m2");
    bench.refuseNext(4001, "ticket expired");
    await bench.advance(100);
    expect(socket.state).toBe("open");
    expect(bench.connections).toHaveLength(2);
    expect(bench.connections[0]!.frames).toEqual([]);
    expect(bench.connections[1]!.frames).toEqual(["m1", "m2"]);
  });

  it("queues instead of sending into a socket that already received the server's close frame", async () => {
    const socket = await openChat("a", { reconnectDelay: 10 });
    bench.dropAll(1012); // the close frame is in: readyState CLOSING, the close event 4 ms later
    expect(socket.state).toBe("open");
    socket.send("not lost");
    expect(socket.queuedMessages).toBe(1);
    await bench.advance(100);
    expect(socket.state).toBe("open");
    expect(bench.last().frames).toEqual(["not lost"]);
  });

  it("throws QueueFullError beyond maxQueuedMessages and keeps what it had", async () => {
    const socket = bench.manager.open(PATH, { maxQueuedMessages: 2 });
    socket.send("1");
    socket.send("2");
    expect(() => socket.send("3")).toThrow(QueueFullError);
    expect(() => socket.send("3")).toThrow(expect.objectContaining({ name: "QueueFullError" }));
    await bench.advance(60);
    expect(bench.last().frames).toEqual(["1", "2"]);
  });

  it("throws SocketClosedError when closing or closed", async () => {
    const socket = await openChat();
    socket.close();
    expect(socket.state).toBe("closing");
    expect(() => socket.send("x")).toThrow(SocketClosedError);
    await bench.advance(10);
    expect(socket.state).toBe("closed");
    expect(() => socket.send("x")).toThrow(SocketClosedError);
  });

  it("reports queued messages that can never be sent instead of dropping them silently", async () => {
    const socket = bench.manager.open(PATH);
    const errors = record(socket.onError);
    socket.send("lost");
    socket.close();
    expect(socket.state).toBe("closed");
    expect(errors).toEqual([expect.objectContaining({ name: "SocketClosedError", message: expect.stringMatching(/1 queued message unsent/) })]);
  });

  it("rejects data it cannot send with a TypeError", async () => {
    const socket = await openChat();
    expect(() => socket.send({ a: 1 } as never)).toThrow(TypeError);
    expect(() => socket.send(undefined as never)).toThrow(/send\(\) takes a string/);
    // Shared memory: browsers refuse it, and Node's own WebSocket would send it as text.
    expect(() => socket.send(new SharedArrayBuffer(4) as never)).toThrow(/got shared memory/);
    expect(() => socket.send(new Uint8Array(new SharedArrayBuffer(4)))).toThrow(TypeError);
    socket.send(new Uint8Array([1, 2]));
  });
});

describe("closing", () => {
  it("goes closing then closed with the given code, and never reconnects", async () => {
    const socket = await openChat();
    const states = record(socket.onStateChange);
    socket.close(4321, "bye");
    socket.close();
    await bench.advance(60_000);
    expect(states).toEqual(["closing", "closed"]);
    expect(bench.connections).toHaveLength(1);
    expect(bench.connections[0]!.clientCloseCode).toBe(4321);
    expect(bench.ticketRequests).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("while connecting, goes straight to closed and rejects connect", async () => {
    const pending = bench.manager.connect(PATH);
    const socket = bench.manager.open("/other", {}, "other");
    socket.close();
    expect(socket.state).toBe("closed");
    bench.manager.closeAll();
    await expect(pending).rejects.toBeInstanceOf(SocketClosedError);
    await bench.advance(1000);
    expect(bench.connections).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("sends no ticket request for an attempt abandoned while the auth token was awaited", async () => {
    bench.stop();
    bench = createBench({ heartbeatInterval: 0, getAuthToken: () => new Promise((r) => setTimeout(() => r("tok"), 100)) });
    const socket = bench.manager.open(PATH);
    await bench.advance(10);
    socket.close();
    await bench.advance(200);
    expect(socket.state).toBe("closed");
    expect(bench.fetch).not.toHaveBeenCalled();
  });

  it("rejects invalid close codes", async () => {
    const socket = await openChat();
    expect(() => socket.close(1006)).toThrow(TypeError);
    expect(() => socket.close(1000, "x".repeat(200))).toThrow(/123 bytes/);
  });

  it("destroy() closes and removes every listener; it is idempotent", async () => {
    const socket = await openChat();
    const states = record(socket.onStateChange);
    const messages = record(socket.onMessage);
    socket.destroy();
    socket.destroy();
    await bench.advance(10);
    expect(socket.state).toBe("closed");
    expect(states).toEqual([]);
    expect(messages).toEqual([]);
  });

  it("destroy() reports queued messages before it removes the listeners", async () => {
    const socket = bench.manager.open(PATH);
    const errors = record(socket.onError);
    const states = record(socket.onStateChange);
    socket.send("lost");
    socket.send("also lost");
    socket.destroy();
    socket.destroy();
    await bench.advance(10);
    expect(socket.state).toBe("closed");
    expect(states).toEqual([]);
    expect(errors).toEqual([expect.objectContaining({ name: "SocketClosedError", message: expect.stringMatching(/2 queued messages unsent/) })]);
    expect(bench.connections.flatMap((connection) => connection.frames)).toEqual([]);
  });

  it("destroy() tells a listener that sends while hearing of the queue that the socket is closed", async () => {
    const socket = bench.manager.open(PATH);
    socket.send("lost");
    const outcomes: string[] = [];
    socket.onError.subscribe(() => {
      try {
        socket.send("sent from the listener");
        outcomes.push("queued");
      } catch (error) {
        outcomes.push((error as Error).name);
      }
    });
    socket.destroy();
    await bench.advance(10);
    expect(outcomes).toEqual(["SocketClosedError"]);
    expect(socket.queuedMessages).toBe(0);
  });
});

describe("the manager", () => {
  it("counts sockets that are not yet closed", async () => {
    await openChat("a");
    const b = await openChat("b");
    expect(bench.manager.connectionCount).toBe(2);
    b.close();
    expect(bench.manager.connectionCount).toBe(2);
    await bench.advance(10);
    expect(bench.manager.connectionCount).toBe(1);
  });

  it("closeAll() closes everything: the count is 0 when it returns and pending connects reject", async () => {
    const open = await openChat("a");
    bench.serve("/ws/chat/b");
    const pending = bench.manager.connectToChat("b");
    bench.manager.closeAll();
    expect(bench.manager.connectionCount).toBe(0);
    await expect(pending).rejects.toBeInstanceOf(SocketClosedError);
    await bench.advance(10);
    expect(open.state).toBe("closed");
    expect(bench.live()).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keeps one live socket per key: a new connect closes the older socket as close() does, then destroys it", async () => {
    const first = await openChat("a");
    const firstStates = record(first.onStateChange);
    const second = await openChat("a");
    expect(first).not.toBe(second);
    expect(first.state).not.toBe("open");
    await bench.advance(10);
    expect(first.state).toBe("closed");
    // docs/protocol.md §2: nobody holding the old socket is left believing it is live.
    expect(firstStates).toEqual(["closing", "closed"]);
    expect(bench.manager.connectionCount).toBe(1);
    expect(bench.live()).toHaveLength(1);
  });

  it("tells the older socket's onError about the queued messages the replacement drops", async () => {
    const first = bench.manager.open(PATH, undefined, "chat:a");
    const errors = record(first.onError);
    first.send("queued on the old one");
    const second = await openChat("a");
    expect(first.state).toBe("closed");
    expect(errors).toEqual([expect.objectContaining({ name: "SocketClosedError", message: expect.stringMatching(/1 queued message unsent/) })]);
    expect(second.queuedMessages).toBe(0);
    expect(bench.connections.flatMap((connection) => connection.frames)).toEqual([]);
  });

  it("stays one live socket per key when the older socket's onError listener opens the key again", async () => {
    const first = bench.manager.open(PATH, undefined, "chat:a");
    first.send("queued on the old one");
    let reopened: ReturnType<typeof bench.manager.open> | undefined;
    first.onError.subscribe(() => {
      reopened = bench.manager.open(PATH, undefined, "chat:a");
    });
    const second = bench.manager.open(PATH, undefined, "chat:a");
    expect(reopened).toBeDefined();
    expect(reopened!.state).toBe("closed"); // replaced in turn by the open() it interrupted
    expect(bench.manager.connectionCount).toBe(1);
    await bench.advance(60);
    expect(second.isOpen).toBe(true);
    bench.manager.closeAll();
    await bench.advance(10);
    expect([first, reopened!, second].map((socket) => socket.state)).toEqual(["closed", "closed", "closed"]);
    expect(bench.live()).toHaveLength(0);
  });

  it("closing an old socket does not unregister its replacement", async () => {
    const first = await openChat("a");
    await openChat("a");
    first.close();
    await bench.advance(10);
    expect(bench.manager.connectionCount).toBe(1);
  });
});
