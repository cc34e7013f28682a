/**
 * A test bench for the facade: a `mock-socket` server per path, a scripted ticket
 * endpoint, and a WebSocket class that can hold a handshake open. Drive it with
 * vitest fake timers (`await bench.advance(ms)`).
 */
import { Server, WebSocket as MockWebSocket } from "mock-socket";
import { vi } from "vitest";
import { createClient, type ClientOptions, type SocketOptions } from "../../src/index";
import { PING_FRAME, PONG_FRAME } from "../../machines/protocol";
import { FakeWebSocket } from "./fake-socket";

export const API_URL = "http://api.test";
export const WS_URL = "ws://api.test";

type ServerSocket = {
  url: string;
  send(data: string): void;
  close(options?: { code?: number; reason?: string }): void;
  on(type: "message" | "close", listener: (data: any) => void): void;
};

export interface Connection {
  path: string;
  ticket: string | null;
  url: string;
  socket: ServerSocket;
  frames: string[];
  closed: boolean;
  /** Close code seen by the server when the client closed. */
  clientCloseCode?: number;
}

/** What the scripted ticket endpoint answers next; `"network"` rejects the fetch. */
export type TicketAnswer = number | "network" | "malformed" | "hang";

export interface TicketRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

export function createBench(options: Partial<ClientOptions> = {}) {
  const servers = new Map<string, Server>();
  const connections: Connection[] = [];
  const ticketRequests: TicketRequest[] = [];
  const ticketAnswers: TicketAnswer[] = [];
  const refusals: Array<{ code: number; reason?: string }> = [];
  let ticketCounter = 0;
  let stalled = false;
  let hangHandshakes = 0;
  let echo = true;

  const fetch = vi.fn(async (input: string | URL | Request, init?: RequestInit) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => {
      headers[key] = value;
    });
    ticketRequests.push({
      url: String(input),
      method: init?.method ?? "GET",
      headers,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    });
    const answer = ticketAnswers.shift() ?? 200;
    if (answer === "network") throw new TypeError("fetch failed");
    if (answer === "hang") {
      return new Promise<Response>((_, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      });
    }
    if (answer === "malformed") return new Response("<html>not json</html>", { status: 200 });
    if (answer !== 200) return new Response(JSON.stringify({ error: "nope" }), { status: answer });
    ticketCounter += 1;
    return new Response(JSON.stringify({ ticket: `tk-${ticketCounter}`, expiresAt: Date.now() + 30_000 }), {
      status: 200,
      headers: { "content-type": "application/json" },
    });
  });

  /** mock-socket, except that a handshake can be held open for connect-timeout paths. */
  class BenchWebSocket extends MockWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      if (hangHandshakes > 0) {
        hangHandshakes -= 1;
        // A server path nobody listens on keeps mock-socket from ever opening... but it
        // would fail after 4 ms; so swap in a socket that stays CONNECTING.
        return new HangingWebSocket(String(url)) as unknown as BenchWebSocket;
      }
      super(url, protocols);
    }
  }

  function serve(path: string): Server {
    const existing = servers.get(path);
    if (existing) return existing;
    const server = new Server(`${WS_URL}${path}`, { mock: false });
    server.on("connection", (raw) => {
      const socket = raw as unknown as ServerSocket;
      const url = new URL(socket.url);
      const connection: Connection = {
        path,
        ticket: url.searchParams.get("ticket"),
        url: socket.url,
        socket,
        frames: [],
        closed: false,
      };
      connections.push(connection);
      socket.on("message", (data: string) => {
        connection.frames.push(data);
        if (stalled) return;
        if (data === PING_FRAME) socket.send(PONG_FRAME);
        else if (echo) socket.send(data);
      });
      socket.on("close", (event: { code: number }) => {
        connection.closed = true;
        connection.clientCloseCode ??= event?.code;
      });
      const refusal = refusals.shift();
      if (refusal) socket.close(refusal);
    });
    servers.set(path, server);
    return server;
  }

  const client = createClient({
    apiUrl: API_URL,
    fetch: fetch as unknown as typeof globalThis.fetch,
    WebSocket: BenchWebSocket,
    ...options,
  });

  return {
    client,
    manager: client.websocket,
    fetch,
    connections,
    ticketRequests,
    serve,
    /** The connections the server still considers open. */
    live: () => connections.filter((c) => !c.closed),
    last: () => connections.at(-1)!,
    answerTickets: (...answers: TicketAnswer[]) => ticketAnswers.push(...answers),
    refuseNext: (code: number, reason?: string) => refusals.push({ code, reason }),
    holdNextHandshake: (count = 1) => {
      hangHandshakes += count;
    },
    stall: (value = true) => {
      stalled = value;
    },
    setEcho: (value: boolean) => {
      echo = value;
    },
    /** Server closes every live connection with `code` (1006 = a drop). */
    dropAll: (code = 1006, reason = "") => {
      for (const connection of connections) {
        if (!connection.closed) connection.socket.close({ code, reason });
      }
    },
    advance: (ms: number) => vi.advanceTimersByTimeAsync(ms),
    /** `manager.connect(path, options)` with time advanced past the handshake and the open confirmation. */
    connect: async (path: string, options: SocketOptions = {}, key?: string) => {
      serve(path);
      const pending = client.websocket.connect(path, options, key);
      await vi.advanceTimersByTimeAsync(60);
      return pending;
    },
    stop: () => {
      for (const server of servers.values()) server.stop();
      servers.clear();
    },
  };
}

export type Bench = ReturnType<typeof createBench>;

/** A WebSocket whose handshake never completes. */
export class HangingWebSocket extends FakeWebSocket {
  static instances: HangingWebSocket[] = [];
  closeCalls = 0;
  constructor(url: string) {
    super(url);
    HangingWebSocket.instances.push(this);
  }
  send(): void {
    throw new Error("InvalidStateError: still CONNECTING");
  }
  close(): void {
    this.closeCalls += 1;
    this.readyState = 3;
  }
}

/** Collects every value an emitter produces. */
export function record<T>(emitter: { subscribe(fn: (value: T) => void): () => void }): T[] {
  const values: T[] = [];
  emitter.subscribe((value) => values.push(value));
  return values;
}
