/**
 * The typed schema of the connection machine: its context, input, every event it
 * handles, what it emits and its tags.
 */
import type { SocketLink } from "./connection.socket";
import type { Ticket } from "./connection.utils";

/**
 * Extra query parameters of a socket URL. An `undefined` value leaves its key out, so a
 * `params` function can write `{ since: lastEventId }` before there is an id.
 */
export type QueryParams = Readonly<Record<string, string | number | boolean | undefined>>;

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
  /** Base backoff in ms. */
  reconnectDelay: number;
  /** Cap of one backoff delay in ms. */
  maxReconnectDelay: number;
  /** Reconnect attempts before giving up; `0` retries forever. */
  maxReconnectAttempts: number;
  /** Ms of inbound silence before a ping; `0` disables the heartbeat. */
  heartbeatInterval: number;
  /** Ms to wait for any frame after a ping before the link is dead. */
  heartbeatTimeout: number;
  /** Ms one attempt's ticket request or handshake, or a requested close, may take. */
  connectTimeout: number;
  /**
   * Ms `connect*` waits for the first confirmed open before it closes the socket;
   * `0`: no bound on the first connection.
   */
  openTimeout: number;
  /** Bound of the outgoing queue while not open. */
  maxQueuedMessages: number;
  /** Extra query parameters on the socket URL, or a function of the attempt that returns them. */
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
  /** The socket options this connection runs on. */
  settings: ConnectionSettings;
  /**
   * Where this connection's data frames go. The facade passes its own here, so one
   * provided machine serves every socket of a client (`machine.provide()` rebuilds the
   * whole state tree on every call).
   * @default the runtime's `port`
   */
  port?: SocketPort;
}

/** How a requested close ends the socket. */
export interface CloseRequest {
  /** Close code sent to the server. */
  code: number;
  /** Close reason sent to the server. */
  reason: string;
}

/** The machine's context: its input plus what it tracks across attempts. */
export interface ConnectionContext extends ConnectionInput {
  /** Current attempt: 0 for the first connection, n for reconnect attempt n. Resets when a connection that stayed open the stable uptime ends. */
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
  /** When the current (or last) connection was confirmed (epoch ms): its uptime, for the stable-uptime reset. */
  openedAt: number;
  /**
   * The connection's socket, driven by the machine's socket actions. All private: an
   * inspector that serializes the context sees `{}`, never the socket (its URL holds the ticket).
   */
  link: SocketLink;
}

/** Events the connection's socket sends to the machine. */
export type SocketEvent =
  /** The handshake completed. */
  | { type: "socket.open" }
  /** The socket closed, with the close event's fields. */
  | {
      type: "socket.closed";
      /** Close code. */
      code: number;
      /** Close reason. */
      reason: string;
      /** Whether the closing handshake completed. */
      wasClean: boolean;
    }
  /** The socket reported an error. */
  | {
      type: "socket.error";
      /** The error or error event. */
      error: unknown;
    }
  /** The link carried a frame `idleFor` ms ago: no ping needed yet. */
  | {
      type: "socket.active";
      /** Ms since the last inbound frame. */
      idleFor: number;
    }
  /** Nothing arrived for a whole heartbeat interval. */
  | { type: "socket.silent" }
  /** The first frame after a ping arrived. */
  | { type: "socket.alive" }
  /**
   * The server accepted the connection (docs/protocol.md §4): the first inbound frame
   * arrived, or the socket was still OPEN (no close frame) when asked by `confirmSocket`
   * at the end of the confirmation window. At most once per connection, and before that
   * first frame reaches `onMessage`.
   */
  | { type: "socket.confirmed" };

/** Events the `computeParams` action reports: the outcome of the `params` function (docs/protocol.md §3). */
export type ParamsEvent =
  /** The `params` function returned usable query parameters for this attempt. */
  | {
      type: "params.computed";
      /** This attempt's query parameters. */
      params: QueryParams;
    }
  /** The `params` function threw, rejected or returned unusable parameters. */
  | {
      type: "params.failed";
      /** Why, naming the params function and the path. */
      error: unknown;
    };

/** Events the `fetchTicket` action reports: the ticket request's progress and outcome (docs/protocol.md §5). */
export type TicketEvent =
  /** The token provider answered (or there is none): the ticket request goes out now. */
  | {
      /** Event type. */
      type: "ticket.authorized";
    }
  /** The endpoint issued this attempt's ticket. */
  | {
      type: "ticket.issued";
      /** The single-use ticket. */
      ticket: Ticket;
    }
  /** No ticket: a `TicketError` (its `status` `0` when no answer arrived or the token provider failed). */
  | {
      type: "ticket.failed";
      /** Why, naming the path and what failed. */
      error: unknown;
    };

/** Events the machine schedules for itself. */
export type TimerEvent =
  /** `openTimeout` ran out; acts only while no connection has been confirmed yet. */
  {
    /** Event type. */
    type: "timer.openTimeout";
  };

/** Events the facade sends to the machine. */
export type FacadeEvent =
  /** `close()` was called. */
  | {
      type: "connection.close";
      /** Close code to send. */
      code: number;
      /** Close reason to send. */
      reason: string;
    }
  /** The page became visible or the network came back: check liveness / stop waiting now. */
  | { type: "connection.wake" };

/** Events the wall-clock watch of an open socket sends to the machine. */
export type ClockEvent =
  /** The wall clock ran `by` ms ahead of the timers: the process slept or was frozen. */
  {
    type: "clock.jumped";
    /** Ms the wall clock ran ahead. */
    by: number;
  };

/** Every event the machine handles. */
export type ConnectionEvent = SocketEvent | ParamsEvent | TicketEvent | TimerEvent | FacadeEvent | ClockEvent;

/** What the machine emits; the facade forwards these to `onOpen` / `onReconnecting` / `onError`. */
export type ConnectionEmitted =
  /**
   * The connection was confirmed: the server accepted it (docs/protocol.md §4). `attempt`
   * is the attempt that succeeded; `downtime` the ms since the previous connection dropped.
   */
  | {
      type: "established";
      /** `false` the first time. */
      reconnected: boolean;
      /** The attempt that succeeded: 0 the first time. */
      attempt: number;
      /** Ms since the previous connection dropped; 0 the first time. */
      downtime: number;
    }
  /** Reconnect attempt `attempt` started. */
  | {
      type: "reconnecting";
      /** The attempt number, from 1. */
      attempt: number;
    }
  /** An error for `onError`. */
  | {
      type: "error";
      /** The error. */
      error: unknown;
    };

/** Tags that map machine states to the public state (see `toPublicState`). */
export type ConnectionTag = "attempt" | "open" | "closing" | "reconnecting" | "closed";

/** The five public states of docs/protocol.md §4. */
export type WebSocketState = "connecting" | "open" | "closing" | "closed" | "reconnecting";

/** What a `params` function is called with, and what its messages name. */
export interface ParamsInput extends ParamsContext {
  /** The `params` function. */
  params: Extract<ParamsOption, (...args: never[]) => unknown>;
  /** Where the settled `lastEventId` is read, when the connection has a port that knows it. */
  port?: SocketPort;
  /** The socket path, for messages. */
  path: string;
}

/** What the wall-clock watch is started with. */
export interface ClockWatchInput {
  /** How often the wall clock is compared with the timers, in ms. */
  period: number;
  /** How far the wall clock may run ahead of one period before it counts as a jump, in ms. */
  tolerance: number;
}

/** The subset of the WebSocket API sockstate uses; browsers' `WebSocket`, `ws` and `mock-socket` all fit. */
export interface WebSocketLike {
  /** `CONNECTING` (0), `OPEN` (1), `CLOSING` (2) or `CLOSED` (3). */
  readonly readyState: number;
  /** Bytes queued but not yet sent. */
  readonly bufferedAmount?: number;
  /** How binary frames are delivered (`"blob"`, `"arraybuffer"`, `ws`'s `"nodebuffer"`). */
  binaryType?: string;
  /** Called when the connection opens. */
  onopen: ((event: any) => void) | null;
  /** Called for every inbound frame. */
  onmessage: ((event: any) => void) | null;
  /** Called once when the connection closes. */
  onclose: ((event: any) => void) | null;
  /** Called when the connection errs. */
  onerror: ((event: any) => void) | null;
  /** Sends one frame. */
  send(data: any): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** `ws` only: ends the connection at once, without waiting for a closing handshake. */
  terminate?(): void;
}

/** A `WebSocket` class: browsers' own, `ws`'s, or any that fits {@link WebSocketLike}. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Data `send()` accepts, as browsers' WebSocket does (no shared memory). */
export type SendData = string | ArrayBuffer | Blob | ArrayBufferView;

/** How the facade reaches the live socket without going through the interpreter. */
export interface SocketTransport {
  /** Sends one frame on the live socket. */
  send(data: SendData): void;
  /** Bytes queued but not yet sent. */
  readonly bufferedAmount: number;
  /** The socket's `readyState`: `CLOSING` (2) as soon as a close frame arrived, before the close event. */
  readonly readyState: number;
}

/**
 * The socket's line to the facade: data frames and the open transport go straight
 * through here, never through a machine transition.
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
  /**
   * `lastEventId` once every frame received so far has been delivered (an asynchronous
   * validation may still hold some): what a `params` function is given.
   */
  settledEventId?(): Promise<string | undefined>;
  /**
   * What the machine emits, told as the emitting action runs: before the transition's
   * snapshot is committed and before `actor.on()` listeners hear it (they hear it after).
   * Heard only by the port given as the machine's input (`ConnectionInput.port`).
   */
  emitted?(event: ConnectionEmitted): void;
  /**
   * `true` when the port's owner never stops the actor and lets go of the socket link
   * itself (`SocketLink.complete()`) should the actor fail: the link need not watch the
   * actor for a stop. Heard only on the port given as the machine's input.
   */
  readonly ownsActor?: boolean;
}

/** Returns the bearer token for ticket requests, sync or async; none sends no `Authorization`. */
export type AuthTokenProvider = () => string | null | undefined | Promise<string | null | undefined>;

/** What the connection's actors and socket need from the environment. Every field has a default. */
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
