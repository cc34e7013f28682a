/**
 * The reference server of `sockstate/testing`: the wire protocol of docs/protocol.md §5 (ticket
 * endpoint, ticketed upgrades, application-level heartbeat) on loopback, with fault
 * controls and records for assertions.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { noop } from "../../machines/connection.utils";
import { PING_FRAME, PONG_FRAME, TICKET_PATH, TICKET_REJECTED_CODE } from "../../machines/protocol";
import type {
  ConnectionRecord,
  Falsy,
  FrameData,
  FrameRecord,
  IssuedTicket,
  ReferenceConnection,
  ReferenceConnectionState,
  ReferenceServer,
  ReferenceServerOptions,
  RestartOptions,
  TicketRequestRecord,
  TokenCheck,
} from "./reference-server.types";
import {
  CountedQueue,
  TicketStore,
  assertCloseFrame,
  assertDuration,
  assertInteger,
  bearerToken,
  formatAuthority,
  frameData,
  isLoopbackAddress,
  normalizePath,
  parseTarget,
  parseTicketBody,
} from "./reference-server.utils";
import { BroadcastHistory, encodeBroadcast, parseSince } from "./reference-server.history";

/** Ticket request bodies larger than this are answered `413`. */
const MAX_BODY_BYTES = 64 * 1024;
/** What {@link ReferenceServer.malformTickets} answers with a `200`. */
const MALFORMED_BODY = "<html>not a ticket</html>";

const CORS_HEADERS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "POST, OPTIONS",
  "Access-Control-Allow-Headers": "Content-Type, Authorization",
  "Access-Control-Max-Age": "600",
} as const;

/** Options with defaults applied; hooks stay optional. */
interface ResolvedOptions {
  host: string;
  port: number;
  token: TokenCheck | undefined;
  ticketTtl: number;
  ticketLatency: number;
  history: number;
  onMessage: ReferenceServerOptions["onMessage"];
  onConnection: ReferenceServerOptions["onConnection"];
}

const DEFAULTS = {
  host: "127.0.0.1",
  port: 0,
  ticketTtl: 30_000,
  ticketLatency: 0,
  history: 0,
} as const;

/**
 * Starts a reference server and resolves once it listens.
 *
 * ```ts
 * const server = await createReferenceServer();
 * const client = createClient({ apiUrl: server.apiUrl, WebSocket });
 * // …
 * server.dropAll();          // every client sees a 1006 drop
 * await server.close();
 * ```
 *
 * Throws a `TypeError` naming the option when an option is invalid (a host that is not
 * a loopback address, a negative TTL…).
 */
export async function createReferenceServer(options: ReferenceServerOptions = {}): Promise<ReferenceServer> {
  const server = new LoopbackReferenceServer(resolveOptions(options));
  await server.start();
  return server;
}

function resolveOptions(options: ReferenceServerOptions): ResolvedOptions {
  const host = options.host ?? DEFAULTS.host;
  if (typeof host !== "string" || !isLoopbackAddress(host)) {
    throw new TypeError(`host must be a loopback address (127.x.x.x or ::1), got ${String(host)}`);
  }
  const port = options.port ?? DEFAULTS.port;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new TypeError(`port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  const ticketTtl = options.ticketTtl ?? DEFAULTS.ticketTtl;
  if (typeof ticketTtl !== "number" || !Number.isFinite(ticketTtl) || ticketTtl <= 0) {
    throw new TypeError(`ticketTtl must be a positive number of milliseconds, got ${String(ticketTtl)}`);
  }
  const ticketLatency = options.ticketLatency ?? DEFAULTS.ticketLatency;
  if (typeof ticketLatency !== "number" || !Number.isFinite(ticketLatency) || ticketLatency < 0) {
    throw new TypeError(`ticketLatency must be a number of milliseconds ≥ 0, got ${String(ticketLatency)}`);
  }
  const history = options.history ?? DEFAULTS.history;
  if (typeof history !== "number" || !Number.isInteger(history) || history < 0) {
    throw new TypeError(`history must be an integer ≥ 0 (frames kept per path), got ${String(history)}`);
  }
  const { token, onMessage, onConnection } = options;
  if (token !== undefined && typeof token !== "function" && (typeof token !== "string" || token === "")) {
    throw new TypeError("token must be a non-empty string or a function");
  }
  if (onMessage !== undefined && typeof onMessage !== "function") {
    throw new TypeError("onMessage must be a function");
  }
  if (onConnection !== undefined && typeof onConnection !== "function") {
    throw new TypeError("onConnection must be a function");
  }
  return { host, port, token, ticketTtl, ticketLatency, history, onMessage, onConnection };
}

/** Where the listener is: `restarting` covers the downtime, `down` a failed re-listen. */
type Phase = "starting" | "listening" | "restarting" | "down" | "closed";

/** A close the server answers an upgrade with instead of accepting it. */
interface Refusal {
  code: number;
  reason: string;
}

/** A queued fault of the ticket endpoint. */
type TicketFault = { kind: "reject"; status: number } | { kind: "malform" };

/** A pending {@link ReferenceServer.waitFor}. */
interface Waiter {
  check: () => void;
  fail: (error: Error) => void;
}

type FrameHandler = (connection: ServerConnection, data: RawData, isBinary: boolean) => void;

/** Server side of one upgraded socket; the `ReferenceConnection` handed to hooks. */
class ServerConnection implements ReferenceConnection {
  readonly id: number;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly record: ConnectionRecord;
  readonly #socket: WebSocket;
  readonly #onFrame: FrameHandler;
  #stalled = false;
  /** Frames `ws` had already parsed when the stall began; handled on resume. */
  #backlog: Array<{ data: RawData; isBinary: boolean }> = [];
  /** Work held back by a stall that began at the upgrade (refusal or `onConnection`). */
  #deferred: (() => void) | undefined;
  /** Broadcast frames written while stalled: they wait, as in a TCP buffer, for the resume. */
  #held: Array<string | Uint8Array | ArrayBuffer> = [];

  constructor(record: ConnectionRecord, socket: WebSocket, onFrame: FrameHandler) {
    this.id = record.id;
    this.path = record.path;
    this.query = record.query;
    this.record = record;
    this.#socket = socket;
    this.#onFrame = onFrame;
    socket.on("message", (data, isBinary) => {
      if (this.#stalled) this.#backlog.push({ data, isBinary });
      else onFrame(this, data, isBinary);
    });
  }

  get state(): ReferenceConnectionState {
    if (this.#socket.readyState === this.#socket.OPEN) return "open";
    return this.#socket.readyState === this.#socket.CLOSING ? "closing" : "closed";
  }

  get isStalled(): boolean {
    return this.#stalled;
  }

  /** Accepted (not refused) and still open. */
  get isLive(): boolean {
    return this.record.refusedWith === undefined && this.state === "open";
  }

  send(data: string | Uint8Array | ArrayBuffer): boolean {
    if (this.#stalled || this.state !== "open") return false;
    this.#socket.send(data);
    return true;
  }

  close(code = 1000, reason = ""): void {
    assertCloseFrame("close", code, reason);
    if (this.state !== "open") return;
    this.#deferred = undefined;
    this.resume();
    this.#socket.close(code, reason);
  }

  terminate(): void {
    this.#socket.terminate();
  }

  stall(): void {
    if (this.#stalled || this.state !== "open") return;
    this.#stalled = true;
    this.#socket.pause();
  }

  /**
   * A broadcast frame for this connection: sent now, or, while stalled, held and sent on
   * resume in order. A connection accepted during the stall gets its replay on resume
   * instead. Returns whether the frame was taken.
   */
  deliver(frame: string | Uint8Array | ArrayBuffer): boolean {
    if (!this.#stalled) return this.send(frame);
    if (this.#deferred !== undefined || this.state !== "open") return false;
    this.#held.push(frame);
    return true;
  }

  /** Stalls at once and runs `settle` (refusal or `onConnection`) on resume. */
  stallUntilResume(settle: () => void): void {
    this.stall();
    this.#deferred = settle;
  }

  resume(): void {
    if (!this.#stalled) return;
    this.#stalled = false;
    this.#socket.resume();
    const deferred = this.#deferred;
    this.#deferred = undefined;
    deferred?.();
    const held = this.#held;
    this.#held = [];
    for (const frame of held) this.send(frame);
    const backlog = this.#backlog;
    this.#backlog = [];
    for (const frame of backlog) this.#onFrame(this, frame.data, frame.isBinary);
  }
}

class LoopbackReferenceServer implements ReferenceServer {
  readonly #options: ResolvedOptions;
  readonly #http: Server;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #tickets = new TicketStore();
  /** Every TCP socket of the listener (HTTP and upgraded), destroyed on restart and close. */
  readonly #sockets = new Set<Socket>();
  /** Every upgraded connection whose `close` event has not fired yet. */
  readonly #open = new Set<ServerConnection>();
  readonly #ticketFaults = new CountedQueue<TicketFault>();
  readonly #refusals = new CountedQueue<Refusal>();
  /** Pending delays (ticket latency, restart downtime): cancelling resolves them with `false`. */
  readonly #timers = new Map<ReturnType<typeof setTimeout>, () => void>();
  readonly #waiters = new Set<Waiter>();
  readonly #history: BroadcastHistory;
  /** The id of the last numbered frame each connection was sent: a frame is never sent twice. */
  readonly #sentThrough = new WeakMap<ServerConnection, number>();
  #ticketRequests: TicketRequestRecord[] = [];
  #connections: ConnectionRecord[] = [];
  #frames: FrameRecord[] = [];
  #phase: Phase = "starting";
  #port = 0;
  #nextId = 1;
  #stalled = false;
  #autoPong = true;
  #ticketLatency: number;
  #listenerClosed: Promise<void> | undefined;
  #restarting: Promise<void> | undefined;
  /** Counts restarts and the close: a request that began before one gets no answer. */
  #generation = 0;
  #closed: Promise<void> | undefined;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.#ticketLatency = options.ticketLatency;
    this.#history = new BroadcastHistory(options.history);
    this.#http = createServer((req, res) => this.#handleRequest(req, res));
    this.#http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#handleUpgrade(req, socket, head));
    this.#http.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    });
  }

  async start(): Promise<void> {
    await this.#listen(this.#options.port);
    this.#phase = "listening";
  }

  get apiUrl(): string {
    return `http://${formatAuthority(this.host, this.#port)}`;
  }

  get wsUrl(): string {
    return `ws://${formatAuthority(this.host, this.#port)}`;
  }

  get port(): number {
    return this.#port;
  }

  get host(): string {
    return this.#options.host;
  }

  get ticketRequests(): readonly TicketRequestRecord[] {
    return this.#ticketRequests;
  }

  get connections(): readonly ConnectionRecord[] {
    return this.#connections;
  }

  get frames(): readonly FrameRecord[] {
    return this.#frames;
  }

  get liveConnections(): readonly ReferenceConnection[] {
    return [...this.#open].filter((connection) => connection.isLive);
  }

  get isStalled(): boolean {
    return this.#stalled;
  }

  issueTicket(path?: string): IssuedTicket {
    if (path !== undefined && (typeof path !== "string" || !path.startsWith("/"))) {
      throw new TypeError('issueTicket: path must start with "/"');
    }
    return this.#tickets.issue(path, this.#options.ticketTtl);
  }

  broadcast(path: string, value: unknown): number {
    const target = normalizePath(path);
    const { id, frame } = this.#history.enabled
      ? this.#history.keep(target, value)
      : { id: undefined, frame: encodeBroadcast(value) };
    let sent = 0;
    for (const connection of this.#open) {
      if (!connection.isLive || connection.path !== target) continue;
      // Already sent by its replay.
      if (id !== undefined && (this.#sentThrough.get(connection) ?? 0) >= id) continue;
      if (!connection.deliver(frame)) continue;
      if (id !== undefined) this.#sentThrough.set(connection, id);
      sent += 1;
    }
    return sent;
  }

  /**
   * Sends a connection whose URL carries `since=<id>` every kept frame of its path with a
   * larger id, in order, before anything live: it runs when the connection is accepted
   * (on resume, for one accepted while stalled), before `onConnection`. What it sends is
   * remembered, so a live frame is never sent twice.
   */
  #replay(connection: ServerConnection): void {
    const since = parseSince(connection.query.since);
    if (since === undefined || !this.#history.enabled) return;
    const from = Math.max(since, this.#sentThrough.get(connection) ?? 0);
    for (const { id, frame } of this.#history.after(connection.path, from)) {
      if (!connection.send(frame)) return;
      this.#sentThrough.set(connection, id);
    }
  }

  dropAll(code?: number, reason?: string): void {
    if (code !== undefined) {
      this.closeAll(code, reason);
      return;
    }
    for (const connection of [...this.#open]) connection.terminate();
  }

  closeAll(code = 1000, reason = ""): void {
    assertCloseFrame("closeAll", code, reason);
    for (const connection of [...this.#open]) connection.close(code, reason);
  }

  stall(): void {
    this.#stalled = true;
    for (const connection of this.#open) connection.stall();
  }

  resume(): void {
    this.#stalled = false;
    for (const connection of [...this.#open]) connection.resume();
  }

  rejectTickets(status: number, count = 1): void {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`rejectTickets: status must be an integer from 400 to 599, got ${String(status)}`);
    }
    assertInteger("rejectTickets: count", count, 0);
    this.#ticketFaults.push({ kind: "reject", status }, count);
  }

  malformTickets(count = 1): void {
    assertInteger("malformTickets: count", count, 0);
    this.#ticketFaults.push({ kind: "malform" }, count);
  }

  refuseConnections(code: number, count = 1, reason = ""): void {
    assertCloseFrame("refuseConnections", code, reason);
    assertInteger("refuseConnections: count", count, 0);
    this.#refusals.push({ code, reason }, count);
  }

  setTicketLatency(ms: number): void {
    assertDuration("setTicketLatency", ms);
    this.#ticketLatency = ms;
  }

  setAutoPong(enabled: boolean): void {
    this.#autoPong = enabled;
  }

  restart(options: RestartOptions = {}): Promise<void> {
    const downtime = options.downtime ?? 0;
    try {
      assertDuration("restart: downtime", downtime);
      if (this.#phase === "closed") throw new Error("restart: the reference server is closed");
      if (this.#phase !== "listening" && this.#phase !== "down") {
        throw new Error("restart: a restart is already in progress");
      }
    } catch (error) {
      return Promise.reject(error);
    }
    this.#phase = "restarting";
    this.#generation += 1;
    const restarting = this.#relisten(downtime);
    this.#restarting = restarting;
    return restarting;
  }

  async #relisten(downtime: number): Promise<void> {
    this.#stalled = false;
    this.#tickets.clear();
    this.#destroyAllSockets();
    await this.#stopListening();
    // `close()` may run during any await below: re-read the phase each time.
    if (!(await this.#delay(downtime)) || this.#isClosed()) return;
    try {
      await this.#listen(this.#port);
    } catch (error) {
      if (!this.#isClosed()) this.#phase = "down";
      throw error;
    }
    if (this.#isClosed()) {
      await this.#stopListening();
      return;
    }
    this.#phase = "listening";
    this.#notify();
  }

  waitFor<T>(predicate: (server: ReferenceServer) => T, timeoutMs = 2000): Promise<Exclude<T, Falsy>> {
    assertDuration("waitFor: timeoutMs", timeoutMs);
    return new Promise((resolve, reject) => {
      if (this.#phase === "closed") {
        reject(new Error("waitFor: the reference server is closed"));
        return;
      }
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        settle();
      };
      const waiter: Waiter = {
        check: () => {
          let value: T;
          try {
            value = predicate(this);
          } catch (error) {
            finish(() => reject(error));
            return;
          }
          if (value) finish(() => resolve(value as Exclude<T, Falsy>));
        },
        fail: (error) => finish(() => reject(error)),
      };
      const timer = setTimeout(
        () => waiter.fail(new Error(`waitFor: condition not met within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiters.add(waiter);
      waiter.check();
    });
  }

  clearRecords(): void {
    this.#ticketRequests = [];
    this.#connections = [];
    this.#frames = [];
  }

  reset(): void {
    this.clearRecords();
    this.#ticketFaults.clear();
    this.#refusals.clear();
    this.#ticketLatency = this.#options.ticketLatency;
    this.#autoPong = true;
    this.resume();
  }

  close(): Promise<void> {
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  async #shutdown(): Promise<void> {
    this.#phase = "closed";
    this.#generation += 1;
    for (const [timer, cancel] of this.#timers) {
      clearTimeout(timer);
      cancel();
    }
    this.#timers.clear();
    for (const waiter of [...this.#waiters]) waiter.fail(new Error("waitFor: the reference server closed"));
    this.#destroyAllSockets();
    this.#wss.close();
    // A restart in flight notices the phase and stops listening again itself.
    await this.#restarting?.catch(() => undefined);
    await this.#stopListening();
  }

  // ── HTTP: the ticket endpoint ────────────────────────────────────────────

  #handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const target = tryParseTarget(req.url);
    if (target === undefined) {
      sendJson(res, 400, { error: "malformed request target" });
      return;
    }
    const { path } = target;
    if (path !== TICKET_PATH) {
      sendJson(res, 404, { error: `no route for ${path}` });
      return;
    }
    if (req.method === "OPTIONS") {
      res.writeHead(204, CORS_HEADERS).end();
      return;
    }
    this.#answerTicketRequest(req, res, Date.now()).catch((error: unknown) => {
      // A client that went away mid-body (or a restart that cut it off) is not a server fault.
      if (!req.complete || res.destroyed) return;
      console.error("sockstate reference server: ticket request failed", error);
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.destroy();
    });
  }

  async #answerTicketRequest(req: IncomingMessage, res: ServerResponse, at: number): Promise<void> {
    const generation = this.#generation;
    const authorization = req.headers.authorization;
    const raw = await readBody(req, MAX_BODY_BYTES);
    const body = raw === undefined ? undefined : parseTicketBody(raw);
    if (!(await this.#delay(this.#ticketLatency))) return;
    const token = req.method === "POST" ? await this.#checkToken(authorization) : undefined;
    // A restart or the close since the request came in: its connection is gone, and it must
    // neither use up a fault nor issue a ticket nor be recorded. Nothing awaits after this.
    // (A client that gave up on its own is still answered and recorded, as it asked.)
    if (this.#generation !== generation) return;

    let status: number;
    let payload: unknown;
    let ticket: string | undefined;
    const fault = req.method === "POST" ? this.#ticketFaults.take() : undefined;
    if (req.method !== "POST") {
      status = 405;
      payload = { error: "use POST" };
      res.setHeader("Allow", "POST, OPTIONS");
    } else if (fault?.kind === "reject") {
      status = fault.status;
      payload = { error: `ticket request rejected with ${fault.status} by rejectTickets()` };
    } else if (fault?.kind === "malform") {
      status = 200;
      payload = MALFORMED_BODY;
    } else if (token === "threw") {
      status = 500;
      payload = { error: "the token check failed" };
    } else if (token === "refused") {
      status = 401;
      payload = { error: "missing or invalid bearer token" };
    } else if (body === undefined) {
      status = 413;
      payload = { error: `body larger than ${MAX_BODY_BYTES} bytes` };
    } else if (!body.ok) {
      status = 400;
      payload = { error: body.error };
    } else {
      const issued = this.#tickets.issue(body.path, this.#options.ticketTtl);
      status = 200;
      payload = issued;
      ticket = issued.ticket;
    }
    sendJson(res, status, payload);
    this.#ticketRequests.push({
      method: req.method ?? "",
      path: body?.ok ? body.path : undefined,
      authorization,
      status,
      ticket,
      at,
      respondedAt: Date.now(),
    });
    this.#notify();
  }

  /** The token check's verdict; a predicate that throws or rejects is reported (not to the client) and answered `500`. */
  async #checkToken(authorization: string | undefined): Promise<"accepted" | "refused" | "threw"> {
    const check = this.#options.token;
    if (check === undefined) return "accepted";
    const token = bearerToken(authorization);
    if (typeof check === "string") return token === check ? "accepted" : "refused";
    try {
      return (await check(token)) === true ? "accepted" : "refused";
    } catch (error) {
      console.error("sockstate reference server: the token predicate threw; answering 500", error);
      return "threw";
    }
  }

  // ── WebSocket: ticketed upgrades, heartbeat, echo ─────────────────────────

  #handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#phase !== "listening") {
      socket.destroy();
      return;
    }
    const target = tryParseTarget(req.url);
    if (target === undefined) {
      // As `ws` refuses a handshake: nobody else listens for this socket's errors any more,
      // and a half-open client must not keep it open.
      socket.on("error", noop);
      socket.once("finish", () => socket.destroy());
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, target));
  }

  #accept(ws: WebSocket, { path, query }: { path: string; query: Record<string, string> }): void {
    const ticket = query.ticket;
    const ticketStatus = this.#tickets.redeem(ticket, path);
    const refusal: Refusal | undefined =
      this.#refusals.take() ??
      (ticketStatus === "valid" ? undefined : { code: TICKET_REJECTED_CODE, reason: `ticket ${ticketStatus}` });
    const record: ConnectionRecord = {
      id: this.#nextId++,
      path,
      query,
      ticket,
      ticketStatus,
      ticketValid: ticketStatus === "valid",
      refusedWith: refusal?.code,
      at: Date.now(),
    };
    const connection = new ServerConnection(record, ws, (from, data, isBinary) =>
      this.#handleFrame(from, data, isBinary),
    );
    this.#open.add(connection);
    this.#connections.push(record);
    ws.on("error", () => {
      // `ws` closes the socket after a protocol error; the `close` event records it.
    });
    ws.on("close", (code, reason) => {
      record.closedAt = Date.now();
      record.closeCode = code;
      record.closeReason = reason.toString();
      this.#open.delete(connection);
      this.#notify();
    });

    const settle = (): void => {
      if (refusal !== undefined) {
        connection.close(refusal.code, refusal.reason);
        return;
      }
      this.#replay(connection);
      this.#runHook(connection, () => this.#options.onConnection?.(connection, this));
    };
    if (this.#stalled) connection.stallUntilResume(settle);
    else settle();
    this.#notify();
  }

  #handleFrame(connection: ServerConnection, raw: RawData, isBinary: boolean): void {
    const data = frameData(raw, isBinary);
    this.#frames.push({ connectionId: connection.id, path: connection.path, data, binary: isBinary, at: Date.now() });
    if (connection.isLive) {
      if (!isBinary && data === PING_FRAME) {
        if (this.#autoPong) connection.send(PONG_FRAME);
      } else {
        this.#runHook(connection, () => this.#deliver(connection, data));
      }
    }
    this.#notify();
  }

  #deliver(connection: ServerConnection, data: FrameData): void {
    const onMessage = this.#options.onMessage;
    if (onMessage === undefined) connection.send(data);
    else onMessage(connection, data, this);
  }

  /** Runs an application hook; a throw is reported and closes the connection with `1011`. */
  #runHook(connection: ServerConnection, hook: () => void): void {
    try {
      hook();
    } catch (error) {
      console.error("sockstate reference server: a hook threw; closing the connection with 1011", error);
      connection.close(1011, "server hook failed");
    }
  }

  // ── listener, timers, waiters ────────────────────────────────────────────

  #listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.#http.once("error", onError);
      this.#http.listen(port, this.#options.host, () => {
        this.#http.off("error", onError);
        const address = this.#http.address();
        if (address !== null && typeof address === "object") this.#port = address.port;
        this.#listenerClosed = undefined;
        resolve();
      });
    });
  }

  /** Stops listening and resolves once every connection of the listener is gone. */
  #stopListening(): Promise<void> {
    if (this.#listenerClosed === undefined) {
      this.#listenerClosed = this.#http.listening
        ? new Promise((resolve) => {
            this.#http.close(() => resolve());
            this.#http.closeAllConnections();
          })
        : Promise.resolve();
    }
    return this.#listenerClosed;
  }

  #destroyAllSockets(): void {
    for (const connection of [...this.#open]) connection.terminate();
    for (const socket of [...this.#sockets]) socket.destroy();
  }

  /** Resolves `true` after `ms`, or `false` at once if the server closes first. */
  #delay(ms: number): Promise<boolean> {
    if (ms === 0 || this.#isClosed()) return Promise.resolve(!this.#isClosed());
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve(this.#phase !== "closed");
      }, ms);
      this.#timers.set(timer, () => resolve(false));
    });
  }

  #isClosed(): boolean {
    return this.#phase === "closed";
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter.check();
  }
}

function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  res.writeHead(status, {
    ...CORS_HEADERS,
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** {@link parseTarget}, or `undefined` for a target no URL can be made of (e.g. `http://[`). */
function tryParseTarget(target: string | undefined): ReturnType<typeof parseTarget> | undefined {
  try {
    return parseTarget(target ?? "/");
  } catch {
    return undefined;
  }
}

/** The request body as text, or `undefined` when it exceeds `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
