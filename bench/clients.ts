/**
 * The four clients behind one small interface, so every scenario runs them the same
 * way: raw `ws`, `sockstate` through `createClient`, `partysocket` and
 * `reconnecting-websocket` (both with `ws` as their WebSocket).
 *
 * sockstate connects to ticketed paths and fetches a fresh ticket per attempt; the
 * others have no ticket support and connect to open paths of the same server.
 */
import PartySocket from "partysocket/ws";
import ReconnectingWebSocket from "reconnecting-websocket";
import WebSocket from "ws";
import { createClient } from "../dist/index.mjs";
import type { SocketOptions } from "../dist/index.mjs";
import type { BenchServer } from "./processes";
import { LOCAL_TICKET, LOCAL_TICKET_PREFIX, OPEN_PREFIX, SILENT_SEGMENT, TICKETED_PREFIX } from "./protocol";
import { deferred } from "./stats";

export const CLIENT_NAMES = ["raw ws", "sockstate", "partysocket", "reconnecting-websocket"] as const;
/**
 * Inbound only, for diagnosis: raw `ws` through the WebSocket API (`onmessage`), which
 * sockstate and both peers use. `ws` wraps every frame of that API in a `MessageEvent`;
 * its Node API (`on("message")`, the "raw ws" baseline) does not.
 */
export const RAW_WS_WEBSOCKET_API = "raw ws, onmessage";

/**
 * sockstate set up another way, for information rows: typed messages (inbound), the
 * ticket from the real HTTP endpoint or a server that does not greet (reconnect,
 * half-open). Each is a client of its own in the tables, paired per round like the others.
 */
export const SOCKSTATE_VARIANTS = {
  "sockstate, onData": { data: "onData" },
  "sockstate, onData + schema": { data: "schema" },
  "sockstate, HTTP ticket": { ticket: "http" },
  "sockstate, silent server": { silent: true },
} as const satisfies Record<string, ConnectOptions>;
export type SockstateVariant = keyof typeof SOCKSTATE_VARIANTS;

export type ClientName = (typeof CLIENT_NAMES)[number] | typeof RAW_WS_WEBSOCKET_API | SockstateVariant;

/** What a scenario hears from a connection. */
export interface Listeners {
  /** A text frame arrived (a heartbeat pong never reaches here). */
  message(data: string): void;
  /** A frame arrived through sockstate's `onData`, parsed (in place of `message`). */
  parsed?(value: unknown): void;
  /** The connection is open, the first time or again after a drop. */
  open?(): void;
  /** The client noticed the connection is gone (sockstate: `reconnecting`; the others: `close`). */
  down?(): void;
}

export interface BenchSocket {
  send(data: string): void;
  /** Closes for good; resolves once the client says it is closed (bounded by the scenario). */
  close(): Promise<void>;
}

/** `ws`'s `WebSocket` or a subclass of it. */
export type WebSocketClass = new (...args: ConstructorParameters<typeof WebSocket>) => WebSocket;

export interface ConnectOptions {
  /** Reconnect after a drop with the smallest delay the client allows. */
  fastReconnect?: boolean;
  /** sockstate only: heartbeat settings (the others have no heartbeat). */
  heartbeat?: { interval: number; timeout: number };
  /** The `WebSocket` class the client uses underneath (default `ws`). */
  WebSocket?: WebSocketClass;
  /** Connect to paths whose server never greets (docs/protocol.md §4: confirmed after 50 ms, not at the greeting). */
  silent?: boolean;
  /**
   * sockstate only: where tickets come from. `http` (default): `POST {TICKET_PATH}` of the
   * bench server through Node's fetch. `local`: an injected `fetch` that answers at once.
   */
  ticket?: "http" | "local";
  /** sockstate only: hear frames through `onData` (parsed JSON), optionally with a schema, instead of `onMessage`. */
  data?: "onData" | "schema";
}

/** One client library, ready to open connections to the bench server. */
export interface BenchClient {
  readonly name: ClientName;
  connect(path: string, listeners: Listeners): BenchSocket;
}

/** Creates client `name`, using `options` for every connection it opens. */
export function createBenchClient(name: ClientName, server: BenchServer, connectOptions: ConnectOptions = {}): BenchClient {
  if (name in SOCKSTATE_VARIANTS) {
    const variant = name as SockstateVariant;
    return { ...sockstateClient(server, { ...connectOptions, ...SOCKSTATE_VARIANTS[variant] }), name: variant };
  }
  const options = connectOptions;
  const WS = options.WebSocket ?? WebSocket;
  const openUrl = (path: string) => `${server.wsUrl}${OPEN_PREFIX}${benchPath(path, options)}`;
  // partysocket and reconnecting-websocket take the same options.
  const peerOptions = { WebSocket: WS, ...(options.fastReconnect ? { minReconnectionDelay: 0, maxReconnectionDelay: 0 } : {}) };
  switch (name) {
    case "raw ws":
    case RAW_WS_WEBSOCKET_API:
      return {
        name,
        connect: (path, listeners) =>
          connectRaw(WS, openUrl(path), listeners, { fastReconnect: options.fastReconnect ?? false, webSocketApi: name !== "raw ws" }),
      };
    case "sockstate":
      return sockstateClient(server, options);
    case "partysocket":
      return {
        name,
        connect: (path, listeners) => wrapEventTarget(new PartySocket(openUrl(path), undefined, peerOptions), listeners),
      };
    case "reconnecting-websocket":
      return {
        name,
        connect: (path, listeners) => wrapEventTarget(new ReconnectingWebSocket(openUrl(path), [], peerOptions), listeners),
      };
    default:
      throw new TypeError(`bench: unknown client ${name}`);
  }
}

/**
 * The baseline: `ws` as-is, through its Node API (or with `webSocketApi`, `onmessage`);
 * with `fastReconnect`, a new socket in the close handler.
 */
function connectRaw(
  WS: WebSocketClass,
  url: string,
  listeners: Listeners,
  { fastReconnect, webSocketApi }: { fastReconnect: boolean; webSocketApi: boolean },
): BenchSocket {
  let ws: WebSocket;
  let closing = false;
  let closed: (() => void) | undefined;
  const start = (): void => {
    ws = new WS(url);
    ws.on("open", () => listeners.open?.());
    if (webSocketApi) ws.onmessage = (event) => listeners.message(event.data as string);
    else {
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        if (!isBinary) listeners.message(data.toString());
      });
    }
    ws.on("error", () => {});
    ws.on("close", () => {
      if (closing) closed?.();
      else {
        listeners.down?.();
        if (fastReconnect) start();
      }
    });
  };
  start();
  return {
    send: (data) => ws.send(data),
    close: () => {
      closing = true;
      if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
      const done = deferred();
      closed = done.resolve;
      ws.close();
      return done.promise;
    },
  };
}

/** The path below a prefix: the silent server's paths start with {@link SILENT_SEGMENT}. */
const benchPath = (path: string, options: ConnectOptions) => (options.silent ? `${SILENT_SEGMENT}${path}` : path);

/** An injected `fetch` that answers every ticket request at once (for {@link LOCAL_TICKET_PREFIX} paths). */
const localTicketFetch = async (): Promise<Response> =>
  new Response(JSON.stringify({ ticket: LOCAL_TICKET }), { status: 200, headers: { "Content-Type": "application/json" } });

/**
 * A Standard Schema that accepts every value as it is: what the schema pipeline costs
 * sockstate, without a validation library's own cost.
 */
const ACCEPT_ALL_SCHEMA = {
  "~standard": { version: 1, vendor: "sockstate-bench", validate: (value: unknown) => ({ value }) },
};

function sockstateClient(server: BenchServer, options: ConnectOptions): BenchClient {
  const socketOptions: SocketOptions & { schema?: unknown } = options.fastReconnect ? { reconnectDelay: 0, maxReconnectDelay: 0 } : {};
  if (options.heartbeat) {
    socketOptions.heartbeatInterval = options.heartbeat.interval;
    socketOptions.heartbeatTimeout = options.heartbeat.timeout;
  }
  const local = options.ticket === "local";
  const client = createClient({
    apiUrl: server.apiUrl,
    WebSocket: options.WebSocket ?? WebSocket,
    ...(local ? { fetch: localTicketFetch } : {}),
    ...socketOptions,
  });
  const prefix = local ? LOCAL_TICKET_PREFIX : TICKETED_PREFIX;
  const perSocket = options.data === "schema" ? ({ schema: ACCEPT_ALL_SCHEMA } as SocketOptions) : undefined;
  return {
    name: "sockstate",
    connect: (path, listeners) => {
      const socket = client.websocket.open(`${prefix}${benchPath(path, options)}`, perSocket);
      if (options.data) socket.onData.subscribe((value) => listeners.parsed?.(value));
      else socket.onMessage.subscribe((event) => listeners.message(event.data as string));
      let closed: (() => void) | undefined;
      socket.onStateChange.subscribe((state) => {
        if (state === "open") listeners.open?.();
        else if (state === "reconnecting") listeners.down?.();
        else if (state === "closed") closed?.();
      });
      return {
        send: (data) => socket.send(data),
        close: () => {
          if (socket.state === "closed") return Promise.resolve();
          const done = deferred();
          closed = done.resolve;
          socket.close();
          return done.promise;
        },
      };
    },
  };
}

/** What partysocket's and reconnecting-websocket's sockets have in common. */
interface EventTargetSocket {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: "open" | "close", listener: () => void): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}

function wrapEventTarget(socket: EventTargetSocket, listeners: Listeners): BenchSocket {
  let closing = false;
  let closed: (() => void) | undefined;
  socket.addEventListener("open", () => listeners.open?.());
  socket.addEventListener("message", (event: MessageEvent) => listeners.message(event.data as string));
  socket.addEventListener("close", () => {
    if (closing) closed?.();
    else listeners.down?.();
  });
  return {
    send: (data) => socket.send(data),
    close: () => {
      closing = true;
      const done = deferred();
      closed = done.resolve;
      socket.close();
      return done.promise;
    },
  };
}
