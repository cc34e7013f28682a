/**
 * Bad input: every kind of wrong argument, answer or callback gets a clear error
 * or documented behaviour, and nothing crashes the process. The whole file runs with
 * handlers that record any `unhandledRejection` or `uncaughtException`; each test fails
 * if one fired while it ran.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { backoffCeiling, backoffDelay } from "../../machines/index";
import {
  type ClientOptions,
  createClient,
  type ManagedWebSocket,
  QueueFullError,
  SocketClosedError,
  TicketError,
  type WebSocketManager,
} from "../../src/index";
import { createReferenceServer, type ReferenceServer } from "../../src/testing/index";
import { nextState } from "../support/reliability";
import { nextMessage, sleep } from "../support/wait";
import { PONG_FRAME } from "../../machines/protocol";

const crashes: unknown[] = [];
const recordCrash = (error: unknown) => crashes.push(error);
beforeAll(() => {
  process.on("unhandledRejection", recordCrash);
  process.on("uncaughtException", recordCrash);
});
afterAll(() => {
  process.off("unhandledRejection", recordCrash);
  process.off("uncaughtException", recordCrash);
});

let server: ReferenceServer;
let manager: WebSocketManager;
const connect = (options: Partial<ClientOptions> = {}) =>
  createClient({ apiUrl: server.apiUrl, WebSocket, reconnectDelay: 20, maxReconnectDelay: 40, ...options }).websocket;

beforeEach(async () => {
  crashes.length = 0;
  server = await createReferenceServer();
  manager = connect();
});
afterEach(async () => {
  manager.closeAll();
  await sleep(20); // a rejection nobody handles is reported on a later turn
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  await server.close();
  expect(crashes).toEqual([]);
});

describe("invalid options", () => {
  it("rejects createClient without a usable apiUrl, naming it", () => {
    expect(() => createClient(undefined as unknown as ClientOptions)).toThrow(TypeError);
    expect(() => createClient({} as ClientOptions)).toThrow(/apiUrl/);
    expect(() => createClient({ apiUrl: "not a url", WebSocket })).toThrow(/apiUrl/);
    expect(() => createClient({ apiUrl: "ftp://example.test", WebSocket })).toThrow(/apiUrl/);
    expect(() => createClient({ apiUrl: server.apiUrl, wsUrl: "file:///tmp", WebSocket })).toThrow(/wsUrl/);
    expect(() => createClient({ apiUrl: server.apiUrl, WebSocket, getAuthToken: "token" as never })).toThrow(/getAuthToken/);
  });

  const badOptions: Array<[string, unknown]> = [
    ["reconnectDelay", -1],
    ["reconnectDelay", Number.NaN],
    ["maxReconnectDelay", Number.POSITIVE_INFINITY],
    ["maxReconnectAttempts", 1.5],
    ["maxReconnectAttempts", -1],
    ["heartbeatInterval", "25000"],
    ["heartbeatTimeout", null],
    ["connectTimeout", -10],
    ["maxQueuedMessages", 2.5],
    ["params", "a=b"],
    ["params", { nested: { deep: true } }],
    ["params", { ticket: "mine" }],
    ["debug", "yes"],
    ["inspect", 42],
  ];

  it.each(badOptions)("throws a TypeError naming %s = %o, from createClient and from connect", async (name, value) => {
    const option = { [name]: value };
    expect(() => createClient({ apiUrl: server.apiUrl, WebSocket, ...option })).toThrow(
      expect.objectContaining({ name: "TypeError", message: expect.stringContaining(name) }),
    );
    await expect(manager.connect("/ws/chat/options", option)).rejects.toThrow(new RegExp(name));
    expect(() => manager.open("/ws/chat/options", option)).toThrow(TypeError);
    expect(manager.connectionCount).toBe(0);
    expect(server.ticketRequests).toHaveLength(0);
  });

  it("accepts extreme but valid numbers: a zero base delay still gives finite delays after thousands of attempts", () => {
    const settings = { reconnectDelay: 0, maxReconnectDelay: 30_000 };
    for (const attempt of [1, 2, 1024, 1025, 2000, 1_000_000]) {
      expect(backoffCeiling(attempt, settings), `attempt ${attempt}`).toBe(0);
      expect(backoffDelay(attempt, settings), `attempt ${attempt}`).toBe(0);
    }
    expect(backoffCeiling(5000, { reconnectDelay: 1000, maxReconnectDelay: 30_000 })).toBe(30_000);
  });
});

describe("ids and paths", () => {
  it.each([
    ["a number", 42],
    ["an empty string", ""],
    ["undefined", undefined],
    ["null", null],
    ["an object", { id: "x" }],
  ])("rejects a chat id that is %s with a TypeError, opening nothing", async (_, id) => {
    await expect(manager.connectToChat(id as string)).rejects.toThrow(TypeError);
    await expect(manager.connectToTranscript(id as string, "t")).rejects.toThrow(/workspaceId/);
    await expect(manager.connectToTranscript("w", id as string)).rejects.toThrow(/transcriptId/);
    expect(manager.connectionCount).toBe(0);
    expect(server.ticketRequests).toHaveLength(0);
  });

  it("URI-encodes ids, so an id cannot change the path or add a query", async () => {
    const socket = await manager.connectToChat("a/b?c=1#d é");
    expect(server.connections[0]!.path).toBe("/ws/chat/a%2Fb%3Fc%3D1%23d%20%C3%A9");
    expect(socket.url).toBe(`${server.wsUrl}/ws/chat/a%2Fb%3Fc%3D1%23d%20%C3%A9`);
    expect(socket.key).toBe("chat:a/b?c=1#d é");
  });

  it.each([["ws/chat/x"], [""], ["http://elsewhere.test/ws"], [42], [undefined]])(
    "rejects the path %o with a TypeError",
    async (path) => {
      await expect(manager.connect(path as string)).rejects.toThrow(/path must be a string starting with "\/"/);
      expect(() => manager.open(path as string)).toThrow(TypeError);
      if (path !== undefined) await expect(manager.getTicket(path as string)).rejects.toThrow(TypeError);
      expect(manager.connectionCount).toBe(0);
      expect(server.connections).toHaveLength(0);
    },
  );

  it("rejects an empty key", async () => {
    await expect(manager.connect("/ws/x", {}, "")).rejects.toThrow(/key/);
  });
});

describe("ticket answers that are not tickets", () => {
  it("treats a body that is not JSON as a failed attempt: reported, retried, then open", async () => {
    server.malformTickets(1);
    const socket = manager.open("/ws/chat/malformed");
    const errors: unknown[] = [];
    socket.onError.subscribe((error) => errors.push(error));
    await socket.ready;
    expect(errors[0]).toBeInstanceOf(TicketError);
    expect((errors[0] as TicketError).message).toMatch(/with a body that is not JSON/);
    expect(server.ticketRequests.map((r) => r.status)).toEqual([200, 200]);
    expect(server.connections).toHaveLength(1);
  });

  it("rejects getTicket with a TicketError for a body that is not JSON", async () => {
    server.malformTickets(1);
    const error = await manager.getTicket("/ws/x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TicketError);
    expect((error as TicketError).status).toBe(200);
  });

  it.each([
    ["no ticket field", '{"token":"abc"}'],
    ["a ticket that is not a string", '{"ticket":42}'],
    ["an empty ticket", '{"ticket":""}'],
    ["JSON null", "null"],
    ["an empty body", ""],
  ])("treats %s as a failed attempt and gives up with the configured attempts", async (_, body) => {
    const fetchBadBody = async () => new Response(body, { status: 200, headers: { "content-type": "application/json" } });
    const lonely = connect({ fetch: fetchBadBody, maxReconnectAttempts: 2 });
    const errors: unknown[] = [];
    const socket = lonely.open("/ws/chat/bad-body");
    socket.onError.subscribe((error) => errors.push(error));
    await expect(socket.ready).rejects.toMatchObject({ name: "ReconnectFailedError", attempts: 2 });
    expect(errors.filter((e) => e instanceof TicketError)).toHaveLength(3);
    expect(server.connections).toHaveLength(0);
  });

  it("treats a getAuthToken that throws or rejects as a failed attempt, not a crash", async () => {
    for (const getAuthToken of [
      () => {
        throw new Error("token store unavailable");
      },
      () => Promise.reject(new Error("token refresh failed")),
    ]) {
      const lonely = connect({ getAuthToken, maxReconnectAttempts: 1 });
      const socket = lonely.open("/ws/chat/token");
      const errors: unknown[] = [];
      socket.onError.subscribe((error) => errors.push(error));
      await expect(socket.ready).rejects.toMatchObject({ name: "ReconnectFailedError" });
      expect(errors.some((e) => e instanceof Error && /token/.test(e.message))).toBe(true);
    }
    expect(server.ticketRequests).toHaveLength(0);
  });
});

describe("frames the client did not expect", () => {
  let socket: ManagedWebSocket;
  beforeEach(async () => {
    socket = await manager.connectToChat("frames");
  });

  it("delivers binary frames as bytes, even one that spells a pong", async () => {
    const connection = server.liveConnections[0]!;
    const bytes = new Uint8Array([0, 1, 2, 254, 255]);
    const first = nextMessage(socket);
    connection.send(bytes);
    expect(new Uint8Array(await (first as Promise<Buffer>))).toEqual(bytes);
    const second = nextMessage(socket);
    connection.send(new TextEncoder().encode(PONG_FRAME));
    expect(Buffer.from((await second) as Buffer).toString()).toBe(PONG_FRAME);
    expect(socket.state).toBe("open");
  });

  it("delivers an 8 MB text frame intact and echoes an 8 MB binary frame", async () => {
    const huge = "x".repeat(8 * 1024 * 1024);
    const received = nextMessage(socket, 10_000);
    server.liveConnections[0]!.send(huge);
    expect(((await received) as string).length).toBe(huge.length);
    const echoed = nextMessage(socket, 10_000);
    socket.send(new Uint8Array(8 * 1024 * 1024).fill(7));
    const bytes = (await echoed) as Buffer;
    expect(bytes.byteLength).toBe(8 * 1024 * 1024);
    expect(bytes.every((byte) => byte === 7)).toBe(true);
    expect(socket.state).toBe("open");
  });

  it("reconnects when the server closes with an unexpected code and reason", async () => {
    const reopened = nextState(socket, "open", 3_000);
    server.closeAll(4999, "é".repeat(61));
    await reopened;
    expect(server.liveConnections).toHaveLength(1);
  });
});

describe("callbacks that throw", () => {
  it("keeps delivering to the other listeners and keeps the connection when a listener throws", async () => {
    const reported = vi.spyOn(console, "error").mockImplementation(() => {});
    const socket = await manager.connectToChat("throwing-listener");
    const boom = new Error("listener bug");
    socket.onMessage.subscribe(() => {
      throw boom;
    });
    socket.onStateChange.subscribe(() => {
      throw boom;
    });
    const received: unknown[] = [];
    socket.onMessage.subscribe((event) => received.push(event.data));
    const states: string[] = [];
    socket.onStateChange.subscribe((state) => states.push(state));

    socket.send("one");
    await server.waitFor((s) => s.frames.length === 1);
    await sleep(50);
    const reopened = nextState(socket, "open", 3_000);
    server.dropAll();
    await reopened;
    socket.send("two");
    await server.waitFor((s) => s.frames.length === 2);
    await sleep(50);

    expect(received).toEqual(["one", "two"]);
    expect(states).toEqual(["reconnecting", "open"]);
    expect(reported).toHaveBeenCalledWith(expect.stringContaining("listener threw"), boom);
  });

  it("reports a listener's error through reportError where it exists", async () => {
    const reportError = vi.fn();
    vi.stubGlobal("reportError", reportError);
    const socket = await manager.connectToChat("report-error");
    const boom = new Error("listener bug");
    socket.onMessage.subscribe(() => {
      throw boom;
    });
    const received = nextMessage(socket);
    socket.send("ping me");
    await received;
    await sleep(20);
    expect(reportError).toHaveBeenCalledWith(boom);
  });

  it("survives a debug logger or an inspector that throws: reported like a listener, the connection goes on", async () => {
    const reported = vi.spyOn(console, "error").mockImplementation(() => {});
    let calls = 0;
    const throwing = () => {
      calls += 1;
      if (calls > 2) throw new Error("logger bug");
    };
    for (const options of [{ debug: throwing }, { inspect: throwing }]) {
      calls = 0;
      const socket = await manager.connect("/ws/chat/throwing-logger", options);
      const reopened = nextState(socket, "open", 3_000);
      server.dropAll();
      await reopened;
      const echoed = nextMessage(socket);
      socket.send("still here");
      expect(await echoed).toBe("still here");
      socket.close();
      await sleep(20);
    }
    expect(reported).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ message: "logger bug" }));
  });

  it("survives a debug logger that throws from the very first transition", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const socket = await manager.connect("/ws/chat/throwing-at-once", {
      debug: () => {
        throw new Error("logger bug");
      },
    });
    expect(socket.state).toBe("open");
  });
});

describe("send() and close() with bad arguments", () => {
  it.each([
    ["a number", 42],
    ["a plain object", { type: "message" }],
    ["null", null],
    ["undefined", undefined],
    ["a function", () => "x"],
    ["an array", ["a"]],
  ])("throws a TypeError for %s and stays usable", async (_, data) => {
    const socket = await manager.connectToChat("send-types");
    expect(() => socket.send(data as unknown as string)).toThrow(/send\(\) takes a string, ArrayBuffer, typed array, DataView or Blob/);
    expect(socket.queuedMessages).toBe(0);
    const echoed = nextMessage(socket);
    socket.send("valid");
    expect(await echoed).toBe("valid");
  });

  it("accepts every documented data type", async () => {
    const socket = await manager.connectToChat("send-ok");
    const buffer = new Uint8Array([1, 2, 3]).buffer;
    for (const data of ["text", buffer, new Uint8Array(buffer), new DataView(buffer), new Blob(["blob"])]) {
      expect(() => socket.send(data)).not.toThrow();
    }
    await server.waitFor((s) => s.frames.length === 5, 3_000);
  });

  it("throws QueueFullError when the queue is full and SocketClosedError once closed", async () => {
    server.stall();
    server.refuseConnections(4001, 1); // the first attempt fails, so the socket stays unopened a while
    const socket = manager.open("/ws/chat/queue", { maxQueuedMessages: 2, reconnectDelay: 5_000, maxReconnectDelay: 5_000 });
    socket.send("a");
    socket.send("b");
    expect(() => socket.send("c")).toThrow(QueueFullError);
    socket.close();
    expect(() => socket.send("d")).toThrow(SocketClosedError);
    await expect(socket.ready).rejects.toBeInstanceOf(SocketClosedError);
  });

  it.each([[999], [1001], [2999], [5000], [3000.5], ["1000"]])("rejects close(%o) with a TypeError", async (code) => {
    const socket = await manager.connectToChat("close-codes");
    expect(() => socket.close(code as number)).toThrow(TypeError);
    expect(socket.state).toBe("open");
  });

  it("rejects a close reason longer than 123 bytes and a subscribe without a function", async () => {
    const socket = await manager.connectToChat("close-reason");
    expect(() => socket.close(1000, "é".repeat(62))).toThrow(/123 bytes/);
    expect(() => socket.onMessage.subscribe("listener" as never)).toThrow(TypeError);
    socket.close(1000, "é".repeat(61));
    await nextState(socket, "closed", 2_000);
  });
});
