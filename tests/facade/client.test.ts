import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createClient, TicketError } from "../../src/index";
import { API_URL, type Bench, createBench } from "../support/mock-harness";

describe("createClient", () => {
  it("requires apiUrl and says so", () => {
    expect(() => createClient({} as never)).toThrow(/apiUrl/);
    expect(() => createClient({} as never)).toThrow(TypeError);
    expect(() => createClient({ apiUrl: "not a url" })).toThrow(/apiUrl must be an absolute URL/);
    expect(() => createClient({ apiUrl: "ftp://x.test" })).toThrow(/apiUrl must use http: or https:/);
    expect(() => createClient(undefined as never)).toThrow(TypeError);
  });

  it("says when no WebSocket is available, and how to get one in Node.js", () => {
    vi.stubGlobal("WebSocket", undefined);
    try {
      expect(() => createClient({ apiUrl: API_URL })).toThrow(/no WebSocket available/);
      expect(() => createClient({ apiUrl: API_URL })).toThrow(/run node with --experimental-websocket, or pass `WebSocket` from the `ws` package/i);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("says when no WebSocket is available in a browser-like runtime, without Node.js advice", () => {
    vi.stubGlobal("WebSocket", undefined);
    vi.stubGlobal("document", {});
    try {
      expect(() => createClient({ apiUrl: API_URL })).toThrow(/globalThis\.WebSocket is missing in this runtime. Pass a WebSocket constructor as `WebSocket`/);
      expect(() => createClient({ apiUrl: API_URL })).not.toThrow(/experimental-websocket/);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("says when no fetch is available, and what to do", () => {
    vi.stubGlobal("fetch", undefined);
    try {
      expect(() => createClient({ apiUrl: API_URL, WebSocket: class {} as never })).toThrow(/no fetch available/);
      expect(() => createClient({ apiUrl: API_URL, WebSocket: class {} as never })).toThrow(
        /Node\.js [\d.]+ has no global fetch \(sockstate needs Node\.js 20 or later\)\. Upgrade Node\.js, or pass `fetch` to createClient/,
      );
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("rejects an apiUrl or wsUrl with a query or fragment", () => {
    expect(() => createClient({ apiUrl: "https://a.test/?x=1", WebSocket: class {} as never })).toThrow(/apiUrl must not have a query/);
    expect(() => createClient({ apiUrl: "https://a.test", wsUrl: "wss://a.test#x", WebSocket: class {} as never })).toThrow(/wsUrl/);
  });

  it("rejects unknown (misspelled) options instead of ignoring them", () => {
    expect(() => createClient({ apiUrl: API_URL, WebSocket: class {} as never, heartbeatIntervall: 0 } as never)).toThrow(
      /unknown option "heartbeatIntervall"/,
    );
  });

  it("validates socket defaults given to the client, naming the option", () => {
    expect(() => createClient({ apiUrl: API_URL, WebSocket: class {} as never, reconnectDelay: -1 })).toThrow(
      /reconnectDelay/,
    );
    expect(() =>
      createClient({ apiUrl: API_URL, WebSocket: class {} as never, getAuthToken: "token" as never }),
    ).toThrow(/getAuthToken/);
  });
});

describe("WebSocketManager", () => {
  let bench: Bench;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    bench?.manager.closeAll();
    bench?.stop();
    vi.useRealTimers();
  });

  it("derives the socket URL from apiUrl (http→ws) and opens chat sockets under chat:{id}", async () => {
    bench = createBench();
    bench.serve("/ws/chat/a%2Fb%20c");
    const pending = bench.manager.connectToChat("a/b c");
    await bench.advance(60);
    const socket = await pending;
    expect(socket.key).toBe("chat:a/b c");
    expect(socket.url).toBe("ws://api.test/ws/chat/a%2Fb%20c");
    expect(bench.last().url).toMatch(/^ws:\/\/api\.test\/ws\/chat\/a%2Fb%20c\?ticket=tk-1$/);
  });

  it("opens transcript sockets on the workspace path under transcript:{ws}/{id}", async () => {
    bench = createBench();
    bench.serve("/ws/workspaces/w%201/transcripts/t%2F2");
    const pending = bench.manager.connectToTranscript("w 1", "t/2");
    await bench.advance(60);
    const socket = await pending;
    expect(socket.key).toBe("transcript:w 1/t/2");
    expect(socket.url).toBe("ws://api.test/ws/workspaces/w%201/transcripts/t%2F2");
  });

  it("uses wsUrl when given, and the path as the default key", async () => {
    bench = createBench({ wsUrl: "ws://api.test" });
    bench.serve("/notifications");
    const pending = bench.manager.connect("/notifications", { params: { v: 2 } });
    await bench.advance(60);
    const socket = await pending;
    expect(socket.key).toBe("/notifications");
    expect(socket.url).toBe("ws://api.test/notifications?v=2");
    expect(bench.last().url).toBe("ws://api.test/notifications?ticket=tk-1&v=2");
  });

  it("reads the client's options once: changing them afterwards does not change later sockets", async () => {
    const params = { v: 1 };
    bench = createBench({ wsUrl: "ws://api.test", params });
    bench.serve("/a");
    bench.serve("/b");
    params.v = 2;
    const a = bench.manager.connect("/a");
    const b = bench.manager.connect("/b", { params: { lang: "de" } });
    await bench.advance(60);
    expect((await a).url).toBe("ws://api.test/a?v=1");
    expect((await b).url).toBe("ws://api.test/b?lang=de"); // a socket's own params replace the client's
  });

  it("rejects a path without a leading / and ids that are not strings", async () => {
    bench = createBench();
    await expect(bench.manager.connect("notifications")).rejects.toThrow(TypeError);
    await expect(bench.manager.connect("notifications")).rejects.toThrow(/path must be a string starting with "\/"/);
    await expect(bench.manager.connectToChat(42 as never)).rejects.toThrow(/chatId/);
    await expect(bench.manager.connectToTranscript("w", undefined as never)).rejects.toThrow(/transcriptId/);
    await expect(bench.manager.connect("/x", { heartbeatTimeout: -1 })).rejects.toThrow(/heartbeatTimeout/);
    await expect(bench.manager.connect("/x?topic=a")).rejects.toThrow(/must not contain "\?" or "#"/);
    await expect(bench.manager.connect("/x#top")).rejects.toThrow(TypeError);
    await expect(bench.manager.getTicket("/x?y")).rejects.toThrow(TypeError);
    await expect(bench.manager.connect("/x", { connectTimeout: 0 })).rejects.toThrow(/connectTimeout/);
    await expect(bench.manager.connect("/x", { maxReconnectDelay: 2 ** 31 })).rejects.toThrow(/maxReconnectDelay/);
    await expect(bench.manager.connect("/x", { reconnectDelai: 5 } as never)).rejects.toThrow(/unknown option/);
    expect(bench.manager.connectionCount).toBe(0);
    expect(bench.fetch).not.toHaveBeenCalled();
  });

  it("getTicket() posts {} (or the path) and returns the ticket string", async () => {
    bench = createBench({ getAuthToken: async () => "tok" });
    await expect(bench.manager.getTicket()).resolves.toBe("tk-1");
    await expect(bench.manager.getTicket("/ws/chat/x")).resolves.toBe("tk-2");
    expect(bench.ticketRequests.map((r) => r.body)).toEqual([{}, { path: "/ws/chat/x" }]);
    expect(bench.ticketRequests[0]).toMatchObject({
      url: `${API_URL}/ws/ticket`,
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer tok" },
    });
  });

  it("getTicket() rejects with TicketError carrying the status", async () => {
    bench = createBench();
    bench.answerTickets(403);
    const error = await bench.manager.getTicket().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TicketError);
    expect(error).toMatchObject({ name: "TicketError", status: 403 });
  });

  it("getTicket() gives up after connectTimeout with TicketError(0), the request aborted", async () => {
    bench = createBench({ connectTimeout: 500 });
    bench.answerTickets("hang");
    const result = bench.manager.getTicket().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(499);
    expect(bench.fetch.mock.calls[0]![1]!.signal!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await result;
    expect(error).toBeInstanceOf(TicketError);
    expect(error).toMatchObject({ status: 0, message: "ticket request failed: no answer within 500 ms (connectTimeout)" });
    expect(bench.fetch.mock.calls[0]![1]!.signal!.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("getTicket() bounds a getAuthToken that never settles, and blames the provider, not the request", async () => {
    bench = createBench({ connectTimeout: 300, getAuthToken: () => new Promise<string>(() => {}) });
    const result = bench.manager.getTicket("/ws/chat/x").catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(300);
    expect(await result).toMatchObject({
      name: "TicketError",
      status: 0,
      message: "ticket request for /ws/chat/x not sent: the token provider (getAuthToken) did not settle within 300 ms (connectTimeout)",
    });
    expect(bench.fetch).not.toHaveBeenCalled();
  });

  it("getTicket() leaves no timer behind when the answer comes", async () => {
    bench = createBench();
    await expect(bench.manager.getTicket()).resolves.toBe("tk-1");
    bench.answerTickets(500);
    await expect(bench.manager.getTicket()).rejects.toMatchObject({ status: 500 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("sends no Authorization header when getAuthToken returns nothing", async () => {
    bench = createBench({ getAuthToken: () => undefined });
    await bench.manager.getTicket();
    expect(bench.ticketRequests[0]!.headers.authorization).toBeUndefined();
  });
});
