/**
 * An in-memory network for model-based tests: a `WebSocket` class and a `fetch` for the
 * ticket endpoint that do nothing on their own. Every handshake, close, frame and ticket
 * answer happens when the test says so, which is what lets a test put a socket into any
 * state of the connection machine. Events reach the client asynchronously (in a
 * microtask), as they would from a real socket; no timers are used.
 */
import type { WebSocketConstructor, WebSocketLike } from "../../../machines/connection.types";
import type { TicketAnswer } from "./model-stimuli";

/** One request to `POST {apiUrl}/ws/ticket`. */
export interface ModelTicketRequest {
  /** The `path` of the JSON body (`undefined` for `{}`). */
  path: string | undefined;
  /** The `Authorization` header, if any. */
  authorization: string | undefined;
  /** How it was answered; `undefined` while pending, `"aborted"` when the client gave up. */
  answer: TicketAnswer | "aborted" | undefined;
  /** The ticket handed out with a `200`. */
  ticket: string | undefined;
}

/** A close the client started: its code and reason (`"abort"` for a handshake it gave up). */
export type ClientClose = { code: number | undefined; reason: string | undefined } | "abort";

/** The server's view of one WebSocket the client opened. */
export interface ModelSocketRecord {
  /** 1, 2, … in the order the client opened them. */
  readonly id: number;
  /** The full upgrade URL, ticket included. */
  readonly url: string;
  /** The URL's path. */
  readonly path: string;
  /** The `ticket` query parameter. */
  readonly ticket: string | null;
  /** Lifecycle as the server sees it. */
  state: "connecting" | "open" | "closing" | "closed";
  /** Data frames the server received, heartbeat pings included, in order. */
  readonly received: unknown[];
  /** The close the client started, if it did. */
  clientClose: ClientClose | undefined;
  /** The close code the client was told when the socket closed. */
  closeCode: number | undefined;
}

/** Options of {@link createModelNetwork}. */
export interface ModelNetworkOptions {
  /** @default "http://model.test" */
  apiUrl?: string;
  /** @default apiUrl with http→ws */
  wsUrl?: string;
}

/** The in-memory network: hand `fetch` and `WebSocket` to `createClient`, then drive it. */
export interface ModelNetwork {
  readonly apiUrl: string;
  readonly wsUrl: string;
  /** Answers `POST {apiUrl}/ws/ticket` only when {@link ModelNetwork.answerTicket} is called. */
  readonly fetch: typeof globalThis.fetch;
  /** A WebSocket whose handshake and close wait for the server controls below. */
  readonly WebSocket: WebSocketConstructor;
  /** Every ticket request, in order. */
  readonly ticketRequests: readonly ModelTicketRequest[];
  /** Every socket the client opened, in order. */
  readonly sockets: readonly ModelSocketRecord[];
  /** Ticket requests still waiting for an answer. */
  readonly pendingTickets: number;
  /** Sockets the client still holds: connecting, open, or closing while it waits for the close. */
  liveSockets(): ModelSocketRecord[];
  /** Answers the oldest pending ticket request. Throws when none is pending. */
  answerTicket(answer: TicketAnswer): void;
  /** Completes the newest socket's handshake. */
  accept(): void;
  /** Fails the newest socket's handshake with `code` (before it opens). */
  refuse(code: number, reason?: string): void;
  /** Closes the newest, open socket from the server with `code` (1006: the connection dropped). */
  close(code: number, reason?: string): void;
  /** The server's close frame reaches the newest, open socket: `CLOSING` until `close()` delivers the close event. */
  receiveCloseFrame(): void;
  /** Sends a text frame on the newest, open socket. */
  send(data: string): void;
  /** Fires an `error` event on the newest socket. */
  error(): void;
  /** Answers the client's close frame on the newest socket: its close completes. */
  acknowledgeClose(): void;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

interface PendingTicket {
  request: ModelTicketRequest;
  resolve: (response: Response) => void;
  reject: (error: unknown) => void;
}

/** The parts of a `Response` that `sockstate` reads; settles in microtasks only. */
function ticketResponse(status: number, body: unknown): Response {
  return {
    ok: status >= 200 && status < 300,
    status,
    json: async () => body,
    text: async () => JSON.stringify(body),
  } as unknown as Response;
}

function headerOf(headers: HeadersInit | undefined, name: string): string | undefined {
  return new Headers(headers).get(name) ?? undefined;
}

/** Creates an in-memory network. One network can serve many sockets; controls act on the newest. */
export function createModelNetwork(options: ModelNetworkOptions = {}): ModelNetwork {
  const apiUrl = (options.apiUrl ?? "http://model.test").replace(/\/+$/, "");
  const wsUrl = options.wsUrl ?? apiUrl.replace(/^http/, "ws");
  const ticketRequests: ModelTicketRequest[] = [];
  const pending: PendingTicket[] = [];
  const records: ModelSocketRecord[] = [];
  const clients = new Map<ModelSocketRecord, ModelWebSocket>();
  let issued = 0;

  const fetch = (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (url !== `${apiUrl}/ws/ticket` || (init?.method ?? "GET") !== "POST") {
      throw new TypeError(`model network: no route for ${init?.method ?? "GET"} ${url}`);
    }
    const body = JSON.parse(String(init?.body ?? "{}")) as { path?: string };
    const request: ModelTicketRequest = {
      path: body.path,
      authorization: headerOf(init?.headers, "authorization"),
      answer: undefined,
      ticket: undefined,
    };
    ticketRequests.push(request);
    return new Promise<Response>((resolve, reject) => {
      const entry: PendingTicket = { request, resolve, reject };
      pending.push(entry);
      init?.signal?.addEventListener("abort", () => {
        const index = pending.indexOf(entry);
        if (index === -1) return;
        pending.splice(index, 1);
        request.answer = "aborted";
        reject(init.signal?.reason);
      });
    });
  }) as typeof globalThis.fetch;

  function dispatch(socket: ModelWebSocket, type: "open" | "message" | "close" | "error", event: unknown): void {
    queueMicrotask(() => {
      if (type === "close") socket.readyState = CLOSED;
      const handler = socket[`on${type}`];
      handler?.call(socket, event);
    });
  }

  class ModelWebSocket implements WebSocketLike {
    static readonly CONNECTING = CONNECTING;
    static readonly OPEN = OPEN;
    static readonly CLOSING = CLOSING;
    static readonly CLOSED = CLOSED;
    readyState = CONNECTING;
    bufferedAmount = 0;
    binaryType = "blob";
    onopen: ((event: any) => void) | null = null;
    onmessage: ((event: any) => void) | null = null;
    onclose: ((event: any) => void) | null = null;
    onerror: ((event: any) => void) | null = null;
    readonly #record: ModelSocketRecord;

    constructor(url: string) {
      const parsed = new URL(url);
      this.#record = {
        id: records.length + 1,
        url,
        path: parsed.pathname,
        ticket: parsed.searchParams.get("ticket"),
        state: "connecting",
        received: [],
        clientClose: undefined,
        closeCode: undefined,
      };
      records.push(this.#record);
      clients.set(this.#record, this);
    }

    send(data: unknown): void {
      if (this.readyState === CONNECTING) {
        throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", "InvalidStateError");
      }
      // Like a browser, a closing or closed socket discards what it is given.
      if (this.readyState === OPEN) this.#record.received.push(data);
    }

    close(code?: number, reason?: string): void {
      if (code !== undefined && code !== 1000 && (code < 3000 || code > 4999)) {
        throw new DOMException(`The close code must be 1000 or 3000–4999, got ${code}.`, "InvalidAccessError");
      }
      if (this.readyState === CLOSING || this.readyState === CLOSED) return;
      const record = this.#record;
      if (this.readyState === CONNECTING) {
        // Giving up a handshake fails it at once, as browsers do.
        this.readyState = CLOSING;
        record.clientClose = "abort";
        record.state = "closed";
        record.closeCode = 1006;
        dispatch(this, "close", { type: "close", code: 1006, reason: "", wasClean: false });
        return;
      }
      this.readyState = CLOSING;
      record.clientClose = { code, reason };
      record.state = "closing";
    }
  }

  const newest = (expected: ModelSocketRecord["state"], action: string): [ModelSocketRecord, ModelWebSocket] => {
    const record = records.at(-1);
    if (!record || record.state !== expected) {
      throw new Error(`model network: cannot ${action}: the newest socket is ${record ? record.state : "missing"}, not ${expected}`);
    }
    return [record, clients.get(record)!];
  };

  const end = (record: ModelSocketRecord, socket: ModelWebSocket, code: number, reason: string, wasClean: boolean) => {
    record.state = "closed";
    record.closeCode = code;
    dispatch(socket, "close", { type: "close", code, reason, wasClean });
  };

  return {
    apiUrl,
    wsUrl,
    fetch,
    WebSocket: ModelWebSocket,
    ticketRequests,
    sockets: records,
    get pendingTickets() {
      return pending.length;
    },
    liveSockets: () =>
      records.filter((record) => {
        const socket = clients.get(record)!;
        return socket.readyState === CONNECTING || socket.readyState === OPEN || (socket.readyState === CLOSING && socket.onclose !== null);
      }),
    answerTicket(answer) {
      const entry = pending.shift();
      if (!entry) throw new Error("model network: no ticket request is pending");
      entry.request.answer = answer;
      if (answer === "network") {
        entry.reject(new TypeError("fetch failed"));
      } else if (answer === 200) {
        issued += 1;
        entry.request.ticket = `model-ticket-${issued}`;
        entry.resolve(ticketResponse(200, { ticket: entry.request.ticket, expiresAt: Date.now() + 30_000 }));
      } else {
        entry.resolve(ticketResponse(answer, { error: `status ${answer}` }));
      }
    },
    accept() {
      const [record, socket] = newest("connecting", "accept");
      record.state = "open";
      queueMicrotask(() => {
        if (socket.readyState !== CONNECTING) return;
        socket.readyState = OPEN;
        socket.onopen?.call(socket, { type: "open" });
      });
    },
    refuse(code, reason = "") {
      const [record, socket] = newest("connecting", "refuse a handshake");
      end(record, socket, code, reason, false);
    },
    close(code, reason = "") {
      const [record, socket] = newest("open", "close");
      end(record, socket, code, reason, code !== 1006);
    },
    receiveCloseFrame() {
      const [, socket] = newest("open", "receive a close frame");
      if (socket.readyState !== OPEN) throw new Error("model network: the newest socket already has a close frame");
      socket.readyState = CLOSING;
    },
    send(data) {
      const [, socket] = newest("open", "send");
      if (socket.readyState !== OPEN) throw new Error("model network: cannot send after the close frame");
      dispatch(socket, "message", new MessageEvent("message", { data }));
    },
    error() {
      const record = records.at(-1);
      if (!record) throw new Error("model network: no socket to report an error on");
      dispatch(clients.get(record)!, "error", new Event("error"));
    },
    acknowledgeClose() {
      const [record, socket] = newest("closing", "acknowledge a close");
      const request = record.clientClose;
      const code = request === "abort" || request?.code === undefined ? 1005 : request.code;
      end(record, socket, code, request === "abort" ? "" : (request?.reason ?? ""), true);
    },
  };
}
