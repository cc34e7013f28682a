/**
 * The machine's invoked actors: the ticket request and the socket itself (which also
 * watches the wall clock while open). All IO of a connection happens here; leaving the invoking state
 * stops them.
 */
import { fromCallback, fromPromise } from "xstate";
import { TicketError } from "./connection.errors";
import type {
  ClockWatchInput,
  ConnectionEvent,
  ConnectionRuntime,
  ParamsInput,
  QueryParams,
  SendData,
  SocketActorInput,
  SocketCommand,
  SocketPort,
  SocketTransport,
  TicketInput,
  WebSocketConstructor,
  WebSocketLike,
} from "./connection.types";
import { buildSocketUrl, messageOf as message, noop, queryParamsProblem, READY_STATE, redactTicket, Ticket } from "./connection.utils";
import { PING_FRAME, PONG_FRAME, TICKET_PATH, ticketEndpoint } from "./protocol";

const { CONNECTING, OPEN, CLOSED } = READY_STATE;

const droppingPort: SocketPort = { opened: noop, message: noop, detached: noop };

/**
 * The clock timers run on: never set back, and (where the platform allows) standing still
 * while the process sleeps. `undefined` where there is no `performance.now()`.
 */
const monotonicNow: (() => number) | undefined =
  typeof performance !== "undefined" && typeof performance.now === "function" ? () => performance.now() : undefined;

/** An error's message and, when there is one, its cause's (`fetch failed (connect ECONNREFUSED …)`). */
function messageWithCause(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause === undefined ? message(error) : `${message(error)} (${message(cause)})`;
}

/** `ticket request for /ws/chat/a`, or `ticket request` for one made without a path. */
function ticketSubject(path: string | undefined): string {
  return path === undefined ? "ticket request" : `ticket request for ${path}`;
}

/** What to check after a status that will not fix itself. */
function statusHint(status: number, apiUrl: string): string {
  if (status === 404 || status === 405) return `; check apiUrl (${apiUrl}): the ticket endpoint is POST {apiUrl}${TICKET_PATH}`;
  if (status === 401 || status === 403) return "; check getAuthToken: the endpoint refused the credentials";
  return "";
}

/**
 * Asks `{apiUrl}/ws/ticket` for a fresh ticket (docs/protocol.md §5), after the token
 * provider answered (`onAuthorized` is called then, before the request goes out). Rejects
 * with a `TicketError` whose message names the path and what failed: the HTTP status for a
 * non-2xx answer or an unusable body; `0` when no answer arrived or the token provider
 * threw or rejected (`cause` the thrown value).
 */
export async function requestTicket(
  runtime: Pick<ConnectionRuntime, "fetch" | "getAuthToken">,
  apiUrl: string,
  path?: string,
  signal?: AbortSignal,
  onAuthorized?: () => void,
): Promise<Ticket> {
  const fetchImpl = runtime.fetch ?? globalThis.fetch;
  const subject = ticketSubject(path);
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  let token: string | null | undefined;
  try {
    token = await runtime.getAuthToken?.();
  } catch (cause) {
    throw new TicketError(0, `${subject} not sent: the token provider (getAuthToken) failed: ${message(cause)}`, { cause });
  }
  // The attempt may have been abandoned (close(), connectTimeout) while the token was awaited.
  signal?.throwIfAborted();
  onAuthorized?.();
  if (token) headers.Authorization = `Bearer ${token}`;
  const endpoint = ticketEndpoint(apiUrl);
  let response: Response;
  try {
    response = await fetchImpl(endpoint, {
      method: "POST",
      headers,
      body: JSON.stringify(path === undefined ? {} : { path }),
      signal,
    });
  } catch (cause) {
    throw new TicketError(0, `${subject} failed: POST ${endpoint} got no answer: ${messageWithCause(cause)}`, { cause });
  }
  const answered = `POST ${endpoint} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
  if (!response.ok) {
    // Drain the body so the connection can be reused; its content is not needed.
    await response.text().catch(noop);
    throw new TicketError(response.status, `${subject} failed: ${answered}${statusHint(response.status, apiUrl)}`);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (cause) {
    const type = response.headers?.get?.("content-type");
    throw new TicketError(
      response.status,
      `${subject} failed: ${answered} with a body that is not JSON${type ? ` (${type})` : ""}; check apiUrl (${apiUrl})`,
      { cause },
    );
  }
  const { ticket, expiresAt } = (body ?? {}) as { ticket?: unknown; expiresAt?: unknown };
  if (typeof ticket !== "string" || ticket === "") {
    throw new TicketError(response.status, `${subject} failed: ${answered} without a "ticket" string in its JSON body`);
  }
  return new Ticket(ticket, typeof expiresAt === "number" ? expiresAt : undefined);
}

/** The error of a ticket request that got no answer within `timeout` ms (status `0`: no answer). */
export function ticketTimedOut(timeout: number, path?: string): TicketError {
  return new TicketError(0, `${ticketSubject(path)} failed: no answer within ${timeout} ms (connectTimeout)`);
}

/** The error of a token provider that did not settle within `timeout` ms: no ticket request was sent. */
export function tokenTimedOut(timeout: number, path?: string): TicketError {
  return new TicketError(
    0,
    `${ticketSubject(path)} not sent: the token provider (getAuthToken) did not settle within ${timeout} ms (connectTimeout)`,
  );
}

/**
 * Calls a `params` function for one attempt (docs/protocol.md §3) and checks its result.
 * Rejects with an error whose message names the params function and the path: it threw
 * or rejected (`cause` the thrown value), or returned unusable parameters.
 */
export async function resolveParams(input: ParamsInput): Promise<QueryParams> {
  const label = `the params function for ${input.path}`;
  let params: unknown;
  try {
    // Frames still being validated may move lastEventId: wait for them, or the server
    // would be asked again for a frame that is about to be delivered.
    const lastEventId = input.port?.settledEventId ? await input.port.settledEventId() : input.lastEventId;
    params = await input.params({ attempt: input.attempt, lastEventId });
  } catch (cause) {
    throw new Error(`${label} failed: ${message(cause)}`, { cause });
  }
  const problem = queryParamsProblem(params, "params");
  if (problem) throw new TypeError(`${label} returned unusable params: ${problem}`);
  return params as QueryParams;
}

/** The error of a `params` function that did not settle within `timeout` ms. */
export function paramsTimedOut(timeout: number, path: string): Error {
  return new Error(`the params function for ${path} did not settle within ${timeout} ms (connectTimeout)`);
}

/**
 * The socket's own error event carries the socket (`target.url` holds the ticket) and,
 * in `ws`, a message that may quote the URL. Applications get a fresh `error` Event
 * instead, with the message (if any) redacted.
 */
function redactErrorEvent(event: unknown): Event | Error {
  const message = (event as { message?: unknown } | null)?.message;
  if (typeof Event !== "function") return new Error(typeof message === "string" ? redactTicket(message) : "WebSocket error");
  const safe = new Event("error");
  if (typeof message === "string") Object.defineProperty(safe, "message", { value: redactTicket(message), enumerable: true });
  return safe;
}

/** An exception from the WebSocket constructor, without the URL it may quote. */
function redactError(error: unknown): Error {
  const safe = new Error(`could not create the WebSocket: ${redactTicket(message(error))}`);
  if (error instanceof Error) safe.name = error.name;
  return safe;
}

/**
 * What the port gets of an open socket: `send` and the live `readyState`, not the socket
 * itself (its `url` holds the ticket). A class with a private field: one small object per
 * connection, and nothing to log or serialize.
 */
class SocketHandle implements SocketTransport {
  readonly #socket: WebSocketLike;

  constructor(socket: WebSocketLike) {
    this.#socket = socket;
  }

  send(data: SendData): void {
    this.#socket.send(data);
  }

  get readyState(): number {
    return this.#socket.readyState;
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount ?? 0;
  }
}

/**
 * Forgets every handler of a socket we no longer follow, closes it if it still lives, and
 * ends the connection underneath where the implementation can (`ws`'s `terminate()`):
 * nobody waits for that closing handshake any more (a dead link, or `closeTimeout` ran
 * out), and `ws` would otherwise keep the TCP connection, and the process, up to 30 s for
 * it. The close frame is best effort: one stuck behind unsent data goes with the
 * connection. Browsers bound an unanswered close themselves; Node's built-in `WebSocket`
 * has no `terminate()` and is left to its own closing handshake.
 */
function abandon(socket: WebSocketLike, code?: number, reason?: string): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  // `ws` emits an error when a connecting socket is closed; keep a listener so it is not thrown.
  socket.onerror = noop;
  try {
    if (socket.readyState === CONNECTING || socket.readyState === OPEN) {
      // The close frame (e.g. 4000 for a dead link) is handed to the socket before it ends.
      if (code === undefined || socket.readyState === CONNECTING) socket.close();
      else socket.close(code, reason);
    }
    if (socket.readyState !== CLOSED) socket.terminate?.();
  } catch {
    // Closing an abandoned socket can only fail because it is already going away.
  }
}

/**
 * A ticket is single use: once it is taken for the socket URL, the actor's input (kept
 * for the socket's whole life) no longer holds it.
 */
function forgetTicket(input: SocketActorInput): void {
  (input as { ticket: Ticket | undefined }).ticket = undefined;
}

/**
 * Creates the actors the machine invokes, bound to an environment. `createClient`
 * does this with a port that feeds `onMessage`; call it yourself to run
 * `connectionMachine` without the facade.
 */
export function createConnectionActors(runtime: ConnectionRuntime = {}) {
  const now = Date.now;
  const monotonic = monotonicNow ?? now;
  const runtimePort = runtime.port ?? droppingPort;
  const watchClock = createClockWatch(now);

  /** Calls a `params` function for one attempt (docs/protocol.md §3). */
  const computeParams = fromPromise<QueryParams, ParamsInput>(({ input }) => resolveParams(input));

  /** Requests a fresh ticket (docs/protocol.md §5). */
  const fetchTicket = fromPromise<Ticket, TicketInput>(({ input, signal }) =>
    requestTicket(runtime, input.apiUrl, input.path, signal, () => input.parent?.send({ type: "ticket.authorized" })),
  );

  /** Opens one WebSocket on a ticket and runs it until the machine leaves the socket state. */
  const socketConnection = fromCallback<SocketCommand, SocketActorInput, ConnectionEvent>(
    ({ input, sendBack, receive }) => {
      const port = input.port ?? runtimePort;
      const WebSocketImpl: WebSocketConstructor | undefined =
        runtime.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
      const ticket = input.ticket;
      forgetTicket(input);
      let socket: WebSocketLike | undefined;
      try {
        if (!WebSocketImpl) throw new TypeError("no WebSocket implementation available");
        socket = new WebSocketImpl(buildSocketUrl(input.wsUrl, input.path, input.params, ticket));
      } catch (error) {
        // e.g. a malformed URL: report it and fail the attempt like a dropped handshake.
        sendBack({ type: "socket.error", error: redactError(error) });
        sendBack({ type: "socket.closed", code: 1006, reason: "", wasClean: false });
        return noop;
      }
      const ws = socket;
      let attached = true;
      let opened = false;
      // How long the link has been quiet, by whichever clock says longer: the wall clock
      // set back (NTP, by hand) cannot postpone a ping, nor can a `performance.now()` that
      // fake timers leave running in real time. Either way errs toward an early ping.
      let lastInboundAt = now();
      let lastInboundMonotonic = monotonic();
      const stamp = () => {
        lastInboundAt = now();
        lastInboundMonotonic = monotonic();
      };
      let awaitingAlive = false;
      // Until the connection is confirmed (docs/protocol.md §4), the first inbound frame confirms it.
      let unconfirmed = true;
      const confirm = () => {
        unconfirmed = false;
        sendBack({ type: "socket.confirmed" });
      };
      // The wall-clock watch runs while the socket is open and a heartbeat can act on a jump.
      let unwatchClock = noop;

      const detach = () => {
        if (!attached) return false;
        attached = false;
        unwatchClock();
        if (opened) port.detached();
        return true;
      };

      ws.onopen = () => {
        opened = true;
        stamp();
        port.opened(new SocketHandle(ws));
        if (input.heartbeatInterval > 0) {
          unwatchClock = watchClock(input.clock, (by) => sendBack({ type: "clock.jumped", by }));
        }
        sendBack({ type: "socket.open" });
      };
      // The hot path: a few comparisons per frame and no machine transition. The clocks are read
      // once per run of frames delivered in the same task (`ws` hands over a whole TCP read
      // synchronously), because a clock read costs more than everything else here. The stamp
      // can only be older than the last frame: a ping may go out early, a drop is never caused.
      let stamped = false;
      const unstamp = () => {
        stamped = false;
      };
      ws.onmessage = (event: MessageEvent) => {
        if (!stamped) {
          stamped = true;
          stamp();
          queueMicrotask(unstamp);
        }
        // Before the frame is delivered: its listeners already see the socket open.
        if (unconfirmed) confirm();
        if (awaitingAlive) {
          awaitingAlive = false;
          sendBack({ type: "socket.alive" });
        }
        if (event.data === PONG_FRAME) return;
        port.message(event);
      };
      ws.onerror = (event: unknown) => sendBack({ type: "socket.error", error: redactErrorEvent(event) });
      ws.onclose = (event: CloseEvent) => {
        detach();
        abandon(ws);
        sendBack({ type: "socket.closed", code: event.code, reason: event.reason ?? "", wasClean: event.wasClean });
      };

      receive((command) => {
        if (!attached) return;
        switch (command.type) {
          case "command.confirm":
            // Not OPEN: the server's close frame is in and its close event follows.
            if (unconfirmed && ws.readyState === OPEN) confirm();
            break;
          case "command.probe": {
            const idleFor = Math.max(now() - lastInboundAt, monotonic() - lastInboundMonotonic);
            sendBack(idleFor >= input.heartbeatInterval ? { type: "socket.silent" } : { type: "socket.active", idleFor });
            break;
          }
          case "command.ping":
            awaitingAlive = true;
            ws.send(PING_FRAME);
            break;
          case "command.close":
            if (command.detach) {
              detach();
              abandon(ws, command.code, command.reason);
              sendBack({ type: "socket.closed", code: command.code, reason: command.reason, wasClean: false });
            } else {
              ws.close(command.code, command.reason || undefined);
            }
            break;
        }
      });

      return () => {
        if (detach()) abandon(ws, 1000);
      };
    },
  );

  return { computeParams, fetchTicket, socketConnection };
}

/**
 * Watches for wall-clock jumps. Timers run on a monotonic clock that stands still while
 * the machine is suspended, so after a sleep a pending heartbeat interval still has its
 * whole remainder to run. Every `period` ms a shared ticker compares how far `now()` moved
 * with how far the timers' clock did; each watcher hears of a jump beyond its `tolerance`.
 * A clock set back never counts. One interval per period serves every open socket of a
 * runtime (a process sleeps as a whole), and it stops when the last watcher leaves.
 * The socket actor watches while its socket is open (no separate actor: an invoked actor
 * per open socket costs heap of its own). A socket actor of your own, provided in place of
 * `socketConnection`, can use this to send `clock.jumped` the same way.
 */
export function createClockWatch(now: () => number = Date.now) {
  const tickers = new Map<number, ClockTicker>();
  return (clock: ClockWatchInput, onJump: (by: number) => void): (() => void) => {
    let ticker = tickers.get(clock.period);
    if (!ticker) {
      ticker = createClockTicker(clock.period, now);
      tickers.set(clock.period, ticker);
    }
    return ticker.watch((ahead) => {
      if (ahead > clock.tolerance) onJump(ahead);
    });
  };
}

type ClockTicker = { watch(listener: (ahead: number) => void): () => void };

/**
 * One `setInterval` for many watchers: runs while anyone watches, and reports how far the
 * wall clock ran ahead of the monotonic clock timers run on. Comparing the two clocks (not
 * the wall clock with the period) tells a sleep from a busy process: an event loop blocked
 * by a long GC or a slow task delays the tick, but both clocks advance alike.
 */
function createClockTicker(period: number, now: () => number): ClockTicker {
  const listeners = new Set<(ahead: number) => void>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let lastWall = 0;
  let lastMonotonic = 0;
  const tick = () => {
    const wall = now();
    const mono = monotonicNow ? monotonicNow() : lastMonotonic + period;
    const ahead = wall - lastWall - (mono - lastMonotonic);
    lastWall = wall;
    lastMonotonic = mono;
    if (ahead <= 0) return;
    for (const listener of [...listeners]) listener(ahead);
  };
  return {
    watch(listener) {
      listeners.add(listener);
      if (!timer) {
        lastWall = now();
        lastMonotonic = monotonicNow ? monotonicNow() : 0;
        timer = setInterval(tick, period);
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && timer !== undefined) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },
  };
}
