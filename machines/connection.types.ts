/**
 * The typed schema of the connection machine: its context, input, every event it
 * handles, what it emits, its tags, and the commands its socket actor understands.
 */
import type { Ticket } from "./connection.utils";

/** Extra query parameters of a socket URL. */
export type QueryParams = Readonly<Record<string, string | number | boolean>>;

/** What a `params` function is called with, before every attempt (docs/protocol.md §3). */
export interface ParamsContext {
  /** `0` for the first connection, `n` for reconnect attempt `n`. */
  attempt: number;
  /** The socket's `lastEventId` when the attempt starts. */
  lastEventId: string | undefined;
}

/** Static query parameters, or a function that computes them for each attempt (sync or async). */
export type ParamsOption = QueryParams | ((context: ParamsContext) => QueryParams | Promise<QueryParams>);

/**
 * The numbers and query parameters a connection runs on: the socket options of
 * docs/protocol.md §3 after defaults, without the facade's `debug` and `inspect`.
 */
export interface ConnectionSettings {
  reconnectDelay: number;
  maxReconnectDelay: number;
  maxReconnectAttempts: number;
  heartbeatInterval: number;
  heartbeatTimeout: number;
  connectTimeout: number;
  /** `0`: no bound on the first connection. */
  openTimeout: number;
  maxQueuedMessages: number;
  params: ParamsOption;
}

/** What a connection is created with. */
export interface ConnectionInput {
  /** Manager key, e.g. `chat:abc`; names the actor in the inspector. */
  key: string;
  /** Socket path, starting with `/`. */
  path: string;
  /** HTTP base for tickets. */
  apiUrl: string;
  /** Socket base (`ws:` / `wss:`). */
  wsUrl: string;
  settings: ConnectionSettings;
  /**
   * Where this connection's data frames go. The facade passes its own here, so one
   * provided machine serves every socket of a client (`machine.provide()` rebuilds the
   * whole state tree, ~34 KB per call).
   * @default the runtime's `port`
   */
  port?: SocketPort;
}

/** How a requested close ends the socket. */
export interface CloseRequest {
  code: number;
  reason: string;
}

export interface ConnectionContext extends ConnectionInput {
  /** Current attempt: 0 for the first connection, n for reconnect attempt n. Resets after a stable uptime. */
  attempt: number;
  /** The close the user asked for, sent when an open socket is closed. */
  closeRequest: CloseRequest;
  /** The error that took the machine to `closed`, if any. */
  error: Error | undefined;
  /** Why the last attempt failed or the last connection ended: the `cause` of a `ReconnectFailedError`. */
  lastFailure: unknown;
  /** When the last heartbeat ping was sent (epoch ms), for late-timer detection. */
  pingSentAt: number;
  /** Connections confirmed open so far: `0` until the first one (the `openTimeout` bound applies). */
  connections: number;
  /** The query parameters of the current attempt, when `params` is a function (its last result). */
  attemptParams: QueryParams | undefined;
  /** When the last confirmed connection dropped (epoch ms): `onOpen`'s `downtime`. */
  droppedAt: number | undefined;
}

/** Events the socket actor sends to the machine. */
export type SocketEvent =
  | { type: "socket.open" }
  | { type: "socket.closed"; code: number; reason: string; wasClean: boolean }
  | { type: "socket.error"; error: unknown }
  /** The link carried a frame `idleFor` ms ago: no ping needed yet. */
  | { type: "socket.active"; idleFor: number }
  /** Nothing arrived for a whole heartbeat interval. */
  | { type: "socket.silent" }
  /** The first frame after a ping arrived. */
  | { type: "socket.alive" }
  /**
   * The server accepted the connection (docs/protocol.md §4): the first inbound frame
   * arrived, or the socket was still OPEN (no close frame) when asked by `command.confirm`
   * at the end of the confirmation window. At most once per connection, and before that
   * first frame reaches `onMessage`.
   */
  | { type: "socket.confirmed" };

/** Events the ticket actor sends to the machine. */
export type TicketEvent =
  /** The token provider answered (or there is none): the ticket request goes out now. */
  { type: "ticket.authorized" };

/** Events the machine schedules for itself. */
export type TimerEvent =
  /** `openTimeout` ran out; acts only while no connection has been confirmed yet. */
  { type: "timer.openTimeout" };

/** Events the facade sends to the machine. */
export type FacadeEvent =
  | { type: "connection.close"; code: number; reason: string }
  /** The page became visible or the network came back: check liveness / stop waiting now. */
  | { type: "connection.wake" };

/** Events the socket actor's wall-clock watch sends to the machine. */
export type ClockEvent =
  /** The wall clock ran `by` ms ahead of the timers: the process slept or was frozen. */
  { type: "clock.jumped"; by: number };

export type ConnectionEvent = SocketEvent | TicketEvent | TimerEvent | FacadeEvent | ClockEvent;

/** What the machine emits; the facade forwards these to `onReconnecting` / `onError`. */
export type ConnectionEmitted =
  /**
   * The connection was confirmed: the server accepted it (docs/protocol.md §4). `attempt`
   * is the attempt that succeeded; `downtime` the ms since the previous connection dropped.
   */
  | { type: "established"; reconnected: boolean; attempt: number; downtime: number }
  | { type: "reconnecting"; attempt: number }
  | { type: "error"; error: unknown };

/** Commands the machine sends to its socket actor. */
export type SocketCommand =
  /** Report `socket.confirmed` if the socket is still OPEN (a close frame makes it CLOSING) and not confirmed yet. */
  | { type: "command.confirm" }
  /** Report `socket.silent` if nothing arrived for a heartbeat interval, else `socket.active`. */
  | { type: "command.probe" }
  /** Send `{"type":"ping"}` and report the next inbound frame as `socket.alive`. */
  | { type: "command.ping" }
  /** Close the socket; with `detach`, report `socket.closed` at once instead of waiting for the close handshake. */
  | { type: "command.close"; code: number; reason: string; detach: boolean };

/** Tags that map machine states to the public state (see `toPublicState`). */
export type ConnectionTag = "attempt" | "open" | "closing" | "reconnecting" | "closed";

/** The five public states of docs/protocol.md §4. */
export type WebSocketState = "connecting" | "open" | "closing" | "closed" | "reconnecting";

export interface TicketInput {
  apiUrl: string;
  path: string;
  /** Told `ticket.authorized` once the token provider answered. */
  parent?: { send(event: TicketEvent): void };
}

export interface ParamsInput extends ParamsContext {
  /** The `params` function. */
  params: Extract<ParamsOption, (...args: never[]) => unknown>;
  /** The socket path, for messages. */
  path: string;
}

export interface ClockWatchInput {
  /** How often the wall clock is compared with the timers, in ms. */
  period: number;
  /** How far the wall clock may run ahead of one period before it counts as a jump, in ms. */
  tolerance: number;
}

export interface SocketActorInput {
  wsUrl: string;
  path: string;
  /** This attempt's query parameters (a `params` function's result, or the static ones). */
  params: QueryParams;
  heartbeatInterval: number;
  /** Wall-clock watch while open (only when the heartbeat is on). */
  clock: ClockWatchInput;
  ticket: Ticket;
  /** The connection's port; the runtime's when absent. */
  port?: SocketPort;
}

/** The subset of the WebSocket API sockstate uses; browsers' `WebSocket`, `ws` and `mock-socket` all fit. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount?: number;
  binaryType?: string;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  send(data: any): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: ends the connection at once, without waiting for a closing handshake. */
  terminate?(): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Data `send()` accepts, as browsers' WebSocket does (no shared memory). */
export type SendData = string | ArrayBuffer | Blob | ArrayBufferView;

/** How the facade reaches the live socket without going through the interpreter. */
export interface SocketTransport {
  send(data: SendData): void;
  readonly bufferedAmount: number;
  /** The socket's `readyState`: `CLOSING` (2) as soon as a close frame arrived, before the close event. */
  readonly readyState: number;
}

/**
 * The socket actor's line to the facade: data frames and the open transport go
 * straight through here, never through a machine transition.
 */
export interface SocketPort {
  /** The socket opened; called just before the machine hears `socket.open`. */
  opened(transport: SocketTransport): void;
  /** A data frame arrived (heartbeat pongs are filtered out before this). */
  message(event: MessageEvent): void;
  /** The socket is gone (closed, dropped or abandoned); the transport must not be used. */
  detached(): void;
  /** The socket's `lastEventId`, passed to a `params` function before each attempt. */
  readonly lastEventId?: string;
}

export type AuthTokenProvider = () => string | null | undefined | Promise<string | null | undefined>;

/** What the connection's actors need from the environment. Every field has a default. */
export interface ConnectionRuntime {
  /** @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor;
  /** @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** Bearer token for ticket requests. */
  getAuthToken?: AuthTokenProvider;
  /** Where data frames go. @default drops them */
  port?: SocketPort;
}
