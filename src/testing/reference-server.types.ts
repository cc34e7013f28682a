/**
 * Public types of `sockstate/testing`: the options, the server handle, the
 * per-connection handle and the records a test asserts on.
 */

/**
 * Outcome of checking the `ticket` query parameter of an upgrade.
 *
 * - `valid`: issued, unused, unexpired, and requested for this path (or for no path).
 * - `missing`: the upgrade URL had no `ticket` parameter.
 * - `unknown`: never issued by this server, forgotten by {@link ReferenceServer.restart}, or
 *   past its expiry by more than a minute (spent and expired tickets are remembered that long).
 * - `used`: already redeemed by an earlier upgrade (tickets are single-use).
 * - `expired`: older than `ticketTtl`.
 * - `wrong-path`: requested with `{"path": …}` for another path.
 *
 * Every status but `valid` closes the socket with `4001`.
 */
export type TicketStatus = "valid" | "missing" | "unknown" | "used" | "expired" | "wrong-path";

/** A ticket as the endpoint hands it out. */
export interface IssuedTicket {
  /** Opaque, random, single-use value to pass as `?ticket=` on the upgrade. */
  ticket: string;
  /** Epoch milliseconds after which the ticket is rejected. */
  expiresAt: number;
}

/** Data of a WebSocket frame: a `string` for a text frame, a `Buffer` for a binary frame. */
export type FrameData = string | Buffer;

/** Bearer-token check of the ticket endpoint: the expected token, or a predicate. */
export type TokenCheck = string | ((token: string | undefined) => boolean | Promise<boolean>);

/** Options of {@link createReferenceServer}. Every field is optional. */
export interface ReferenceServerOptions {
  /**
   * Loopback address to listen on. Only `127.0.0.1` (or another `127.x.x.x`) and `::1`
   * are accepted: a test server must never be reachable from the network.
   * @default "127.0.0.1"
   */
  host?: string;
  /**
   * TCP port. `0` lets the OS pick a free port; read it back from {@link ReferenceServer.port}.
   * @default 0
   */
  port?: number;
  /**
   * When set, `POST /ws/ticket` requires `Authorization: Bearer <token>`: either the
   * exact token, or a predicate that receives the token (`undefined` when the header is
   * missing or not a bearer token). A failed check answers `401`; a predicate that
   * throws or rejects answers `500` (the request is recorded either way).
   * @default undefined (no check)
   */
  token?: TokenCheck;
  /**
   * Lifetime of an issued ticket in milliseconds. Tickets are also single-use.
   * @default 30000
   */
  ticketTtl?: number;
  /**
   * Initial delay in milliseconds before every ticket response; see
   * {@link ReferenceServer.setTicketLatency}.
   * @default 0
   */
  ticketLatency?: number;
  /**
   * Called for every data frame that is not the heartbeat ping `{"type":"ping"}`.
   * Replaces the default behaviour, which echoes the frame back with the same type
   * (text or binary). If it throws, the error is reported with `console.error` and the
   * connection is closed with `1011`.
   * @default echo
   */
  onMessage?: (connection: ReferenceConnection, data: FrameData, server: ReferenceServer) => void;
  /**
   * Called once a connection is accepted (valid ticket, not refused), e.g. to send a
   * greeting. For a connection opened while the server is stalled, called on resume.
   * @default undefined
   */
  onConnection?: (connection: ReferenceConnection, server: ReferenceServer) => void;
  /**
   * How many broadcast frames to keep per path for replay (docs/protocol.md §6). With
   * `n > 0`, every {@link ReferenceServer.broadcast} on a path is numbered 1, 2, 3, … per
   * path (numbers continue across {@link ReferenceServer.restart}), a plain-object value is
   * sent with its number added as `"id"`, and the last `n` frames of each path are kept.
   * A connection whose upgrade URL carries `since=<id>` (a non-negative integer) first
   * receives, in order, every kept frame of its path with a larger id, then the live ones:
   * no gap and no frame twice, also when frames are broadcast while it connects. Frames
   * older than the kept ones are gone: such a connection's first id is then more than
   * `since + 1`. A malformed `since` is ignored (no replay).
   * @default 0 (nothing kept, nothing numbered)
   */
  history?: number;
}

/** Lifecycle of one server-side connection. */
export type ReferenceConnectionState = "open" | "closing" | "closed";

/**
 * Server-side handle of one WebSocket connection, as passed to `onMessage` and
 * listed by {@link ReferenceServer.liveConnections}.
 */
export interface ReferenceConnection {
  /** Sequence number, unique for the server's lifetime (starts at 1). */
  readonly id: number;
  /** Path of the upgrade URL, without the query. */
  readonly path: string;
  /** Query parameters of the upgrade URL, `ticket` included. */
  readonly query: Readonly<Record<string, string>>;
  /** `open` until the server or the client starts closing it. */
  readonly state: ReferenceConnectionState;
  /** `true` while the connection neither reads nor writes (see {@link ReferenceServer.stall}). */
  readonly isStalled: boolean;
  /**
   * Sends a frame: a string as text, bytes as binary.
   * @returns `false`, sending nothing, when the connection is not open or is stalled.
   */
  send(data: string | Uint8Array | ArrayBuffer): boolean;
  /**
   * Starts a closing handshake with `code` (a code `ws` may send: 1000–1014 except
   * 1004–1006, or 3000–4999) and `reason` (at most 123 bytes). Ends a stall first.
   * Throws `RangeError` on an invalid code or reason. No-op when already closing.
   */
  close(code?: number, reason?: string): void;
  /** Destroys the TCP socket without a close frame; the client sees `1006`. */
  terminate(): void;
  /** Stops reading and writing this connection only, without closing it. */
  stall(): void;
  /** Ends a stall of this connection: buffered input is read and answered. */
  resume(): void;
}

/** One request to `POST /ws/ticket` (CORS preflights are not recorded). */
export interface TicketRequestRecord {
  /** HTTP method; anything but `POST` is answered `405`. */
  method: string;
  /** The `path` of the JSON body, `undefined` for `{}` or an unreadable body. */
  path: string | undefined;
  /** The raw `Authorization` header, if any. */
  authorization: string | undefined;
  /** Status of the answer. */
  status: number;
  /** The ticket issued, when `status` is `200` with a well-formed body. */
  ticket: string | undefined;
  /** Epoch ms when the request arrived. */
  at: number;
  /** Epoch ms when the answer was sent (later than `at` by the ticket latency). */
  respondedAt: number;
}

/** One WebSocket upgrade, accepted or refused. Updated in place when it closes. */
export interface ConnectionRecord {
  /** Same as {@link ReferenceConnection.id}. */
  id: number;
  /** Path of the upgrade URL, without the query. */
  path: string;
  /** Query parameters of the upgrade URL, `ticket` included. */
  query: Record<string, string>;
  /** The `ticket` query parameter, if any. */
  ticket: string | undefined;
  /** Outcome of the ticket check. */
  ticketStatus: TicketStatus;
  /** `ticketStatus === "valid"`. */
  ticketValid: boolean;
  /**
   * Close code the server answered the upgrade with (`4001` for a bad ticket, or the
   * code of {@link ReferenceServer.refuseConnections}); `undefined` when accepted. Decided
   * at the upgrade: a refusal held back by {@link ReferenceServer.stall} and overtaken by
   * `closeAll()`/`dropAll()` keeps its code here, while `closeCode` says what was sent.
   */
  refusedWith: number | undefined;
  /** Epoch ms of the upgrade. */
  at: number;
  /** Epoch ms when the connection closed; `undefined` while it is not closed. */
  closedAt?: number;
  /**
   * Close code as the server's `ws` saw it: the code of the close handshake, or `1006`
   * when the TCP connection ended without one (e.g. {@link ReferenceServer.dropAll}).
   */
  closeCode?: number;
  /** Close reason of the handshake (empty when none). */
  closeReason?: string;
}

/** One data frame received from a client, heartbeat pings included. */
export interface FrameRecord {
  /** {@link ReferenceConnection.id} of the sender. */
  connectionId: number;
  /** Path of the sender's connection. */
  path: string;
  /** `string` for a text frame, `Buffer` for a binary frame. */
  data: FrameData;
  /** `true` for a binary frame. */
  binary: boolean;
  /** Epoch ms when the frame was read (after the stall ended, for a stalled connection). */
  at: number;
}

/** Options of {@link ReferenceServer.restart}. */
export interface RestartOptions {
  /**
   * Milliseconds between closing the listener and listening again; connections and
   * ticket requests in that window are refused by the OS (`ECONNREFUSED`).
   * @default 0
   */
  downtime?: number;
}

/** Values a {@link ReferenceServer.waitFor} predicate may return to mean "not yet". */
export type Falsy = false | 0 | "" | null | undefined;

/**
 * A running reference server: the wire protocol of docs/protocol.md §5 on loopback, plus
 * fault controls and records for assertions. Obtain one with `createReferenceServer()`.
 */
export interface ReferenceServer {
  /** HTTP base URL for the client's `apiUrl`, e.g. `http://127.0.0.1:54321`. */
  readonly apiUrl: string;
  /** WebSocket base URL for the client's `wsUrl`, e.g. `ws://127.0.0.1:54321`. */
  readonly wsUrl: string;
  /** The port listened on; kept across {@link ReferenceServer.restart}. */
  readonly port: number;
  /** The loopback address listened on. */
  readonly host: string;

  /**
   * Every ticket request answered since start or the last {@link ReferenceServer.clearRecords}
   * (also one whose client gave up waiting). Requests cut off by
   * {@link ReferenceServer.restart} or `close()`, or by their client mid-body, are not answered
   * and not recorded.
   */
  readonly ticketRequests: readonly TicketRequestRecord[];
  /** Every upgrade since start or the last {@link ReferenceServer.clearRecords}. */
  readonly connections: readonly ConnectionRecord[];
  /** Every data frame received since start or the last {@link ReferenceServer.clearRecords}. */
  readonly frames: readonly FrameRecord[];
  /** Accepted connections that are still open (stalled ones included), oldest first. */
  readonly liveConnections: readonly ReferenceConnection[];
  /** `true` between {@link ReferenceServer.stall} and {@link ReferenceServer.resume}. */
  readonly isStalled: boolean;

  /**
   * Issues a ticket without an HTTP request (not recorded in `ticketRequests`), as
   * `POST /ws/ticket` would. With `path`, the ticket is only valid on that path.
   */
  issueTicket(path?: string): IssuedTicket;

  /**
   * Sends `value` to every live, non-stalled connection whose path equals `path`: a
   * string as a text frame, bytes as a binary frame, anything else as JSON text. With the
   * `history` option the frame is numbered and kept for replay (see
   * {@link ReferenceServerOptions.history}), and a plain object is sent with its number as
   * `"id"`. Throws a `TypeError` for a value JSON cannot represent.
   * @returns the number of connections it was sent to.
   */
  broadcast(path: string, value: unknown): number;

  /**
   * Drops every connection. Without `code`: destroys the TCP sockets with no close
   * frame, so clients see `1006` (a network drop). With `code`: same as
   * {@link ReferenceServer.closeAll}. Refused and stalled connections are included.
   */
  dropAll(code?: number, reason?: string): void;

  /**
   * Closes every connection with a close frame carrying `code` and `reason` (the
   * client sees exactly that code). Stalled connections stop stalling to do so.
   * Throws `RangeError` for a code `ws` cannot send (1004–1006, <1000, 1015–2999, ≥5000).
   */
  closeAll(code?: number, reason?: string): void;

  /**
   * Makes every connection half-open: the server stops reading (the TCP socket is
   * paused, so client frames wait in kernel buffers) and stops writing (no pong, no
   * echo; `broadcast` frames are held, as in a send buffer, and written on resume), and
   * does not close anything. Only a client heartbeat can notice.
   *
   * Upgrades arriving while stalled are completed — the client sees `open` — and then
   * stay just as silent: their ticket is checked at once, but a refusal (`4001` or
   * {@link ReferenceServer.refuseConnections}) and `onConnection` are deferred to
   * {@link ReferenceServer.resume}. Ticket requests are still answered: the API and the
   * socket edge are different hops.
   */
  stall(): void;

  /**
   * Ends {@link ReferenceServer.stall} for every connection: broadcast frames held
   * during the stall are written, in order; buffered client frames are read and answered
   * in order (a late ping gets its pong); deferred refusals close.
   */
  resume(): void;

  /**
   * The next `count` ticket requests are answered with `status` (400–599) and a JSON
   * error body, whatever the token check says. Queued after earlier calls. A request
   * cut off by {@link ReferenceServer.restart} does not use one up.
   * @default count 1
   */
  rejectTickets(status: number, count?: number): void;

  /**
   * The next `count` ticket requests are answered `200` with a body that is not JSON,
   * as a misconfigured proxy might. Queued with {@link ReferenceServer.rejectTickets}.
   * @default count 1
   */
  malformTickets(count?: number): void;

  /**
   * The next `count` upgrades are accepted and then closed at once with `code` and
   * `reason`, whatever their ticket (a valid ticket is still consumed). Queued after
   * earlier calls. Throws `RangeError` for a code `ws` cannot send.
   * @default count 1
   */
  refuseConnections(code: number, count?: number, reason?: string): void;

  /**
   * Delays every later ticket response by `ms` milliseconds (`0` to stop). The
   * timers are cleared by {@link ReferenceServer.close}.
   */
  setTicketLatency(ms: number): void;

  /**
   * Whether heartbeat pings are answered with `{"type":"pong"}` (default `true`).
   * With `false`, pings are recorded and otherwise ignored while other frames are
   * still echoed: a connection that is alive yet never pongs.
   */
  setAutoPong(enabled: boolean): void;

  /**
   * Simulates a server restart: destroys every connection (clients see `1006`), closes
   * the listener, waits `downtime` ms, and listens again on the same port. Tickets
   * issued before the restart are forgotten (an upgrade with one gets `4001`, status
   * `unknown`); a stall ends. Ticket requests still waiting out their latency are cut off:
   * not answered, not recorded, no queued fault used. Records, queued faults and latency
   * are kept. Resolves once
   * listening again — or, if {@link ReferenceServer.close} is called meanwhile, once
   * closed. Rejects if a restart is already in progress or the port was taken.
   */
  restart(options?: RestartOptions): Promise<void>;

  /**
   * Resolves with the first truthy value `predicate(server)` returns. The predicate is
   * evaluated now and after every server event (ticket request, upgrade, frame, close).
   * Rejects after `timeoutMs`, when the predicate throws, or when the server closes.
   * @default timeoutMs 2000
   */
  waitFor<T>(predicate: (server: ReferenceServer) => T, timeoutMs?: number): Promise<Exclude<T, Falsy>>;

  /** Empties `ticketRequests`, `connections` and `frames`. Live connections are untouched. */
  clearRecords(): void;

  /**
   * {@link ReferenceServer.clearRecords}, and every fault control back to its default:
   * queued rejections and refusals dropped, latency back to the `ticketLatency` option,
   * auto-pong on, stall ended. Live connections and issued tickets are untouched.
   */
  reset(): void;

  /**
   * Destroys every connection, cancels pending timers and `waitFor` calls, and stops
   * listening. Idempotent: every call returns the same promise.
   */
  close(): Promise<void>;
}
