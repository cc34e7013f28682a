/**
 * The IO of a connection: one {@link SocketLink} per connection actor, in its context,
 * that the machine's actions drive. Entering the `socket` state opens a WebSocket
 * (`openSocket`), leaving it lets go of it (`releaseSocket`); what the socket reports comes
 * back to the machine as `socket.*` and `clock.jumped` events. An attempt's `params` and
 * `ticket` steps run through the same link (`runStep`, `abortStep`) and report
 * `params.*` and `ticket.*` events. None of it is an invoked actor: a second actor per
 * step or per open socket costs heap and time of its own.
 */
import type {
  ClockEvent,
  ParamsEvent,
  ClockWatchInput,
  ConnectionContext,
  ConnectionRuntime,
  SendData,
  SocketEvent,
  SocketPort,
  SocketTransport,
  TicketEvent,
  WebSocketConstructor,
  WebSocketLike,
} from "./connection.types";
import { buildSocketUrl, messageOf, noop, READY_STATE, redactTicket, type QueryParams, type Ticket } from "./connection.utils";
import { PING_FRAME, PONG_FRAME } from "./protocol";

const { CONNECTING, OPEN, CLOSED } = READY_STATE;

/** A heartbeat timer that fires this much later than asked was throttled or slept through. */
export const LATE_TIMER_TOLERANCE = 1000;

/**
 * How often the shared wall-clock ticker (one per runtime, watched by every open socket)
 * compares the wall clock with the timers' clock. A wall clock that ran ahead by more
 * than `LATE_TIMER_TOLERANCE` within one check means the process slept: a quiet socket
 * pings at once instead of waiting out the rest of its heartbeat interval.
 */
export const CLOCK_CHECK_INTERVAL = 1000;

const droppingPort: SocketPort = { opened: noop, message: noop, detached: noop };

/**
 * The clock timers run on: never set back, and (where the platform allows) standing still
 * while the process sleeps. `undefined` where there is no `performance.now()`.
 */
const monotonicNow: (() => number) | undefined =
  typeof performance !== "undefined" && typeof performance.now === "function" ? () => performance.now() : undefined;

const monotonic = monotonicNow ?? (() => Date.now());

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
  const safe = new Error(`could not create the WebSocket: ${redactTicket(messageOf(error))}`);
  if (error instanceof Error) safe.name = error.name;
  return safe;
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

/** The connection actor, as its socket link sees it. */
export interface SocketLinkOwner {
  /** Where the socket's and the attempt steps' events go. */
  send(event: SocketEvent | ClockEvent | ParamsEvent | TicketEvent): void;
  /** Watched once, so that a stopped actor lets go of its socket (`complete`). */
  subscribe(observer: { complete(): void }): unknown;
}

/** What opening a socket takes from the environment, bound once per runtime. */
export interface SocketEnvironment {
  /** The runtime's WebSocket class; `globalThis.WebSocket` when absent (read when a socket opens). */
  readonly WebSocket: WebSocketConstructor | undefined;
  /** Where data frames go for a connection without a port of its own. */
  readonly port: SocketPort;
  /** The runtime's wall-clock ticker, every `CLOCK_CHECK_INTERVAL` ms, shared by its open sockets. */
  readonly clock: ClockTicker;
}

/**
 * One connection's socket: the WebSocket of the current attempt, its handlers and what
 * they track (when a frame last came in, whether the connection is confirmed, whether a
 * ping is out). The machine's socket actions call its methods; what the socket reports
 * goes to the connection actor as events, never from a socket the machine has left.
 * It is the transport the port gets while the socket is open (`send`, the live
 * `readyState`), not the socket itself, whose `url` holds the ticket. Every field is
 * private: an inspector that serializes the context sees `{}`.
 */
export class SocketLink implements SocketTransport, ClockListener {
  /** The current attempt's socket, until it is closed, dropped or let go. */
  #socket: WebSocketLike | undefined;
  #owner: SocketLinkOwner | undefined;
  #port: SocketPort = droppingPort;
  #opened = false;
  /** Until the connection is confirmed (docs/protocol.md §4), the first inbound frame confirms it. */
  #unconfirmed = true;
  #awaitingAlive = false;
  /**
   * The next inbound frame is heard out (`#heard`) before it is delivered: it is the first
   * of a run, or one the machine waits for. False for the rest of a run already heard out.
   */
  #heed = true;
  // How long the link has been quiet, by whichever clock says longer: the wall clock
  // set back (NTP, by hand) cannot postpone a ping, nor can a `performance.now()` that
  // fake timers leave running in real time. Either way errs toward an early ping.
  #lastInboundAt = 0;
  #lastInboundMonotonic = 0;
  /** The ticker this link listens to while the socket is open and a heartbeat can act on a wall-clock jump. */
  #clock: ClockTicker | undefined;
  /** The attempt's pending `params` or `ticket` step; aborted when the machine leaves it. */
  #step: AbortController | undefined;

  /**
   * `computeParams`, `fetchTicket`: starts one asynchronous step of an attempt. What it
   * reports on the way (`report`) and its outcome (`done(value)` or `failed(error)`) reach
   * the owner only while it is the current step: never once `abortStep` ran, a newer step
   * started or the actor stopped.
   */
  runStep<T>(
    owner: SocketLinkOwner,
    port: SocketPort | undefined,
    work: (signal: AbortSignal, report: (event: TicketEvent) => void) => Promise<T>,
    done: (value: T) => ParamsEvent | TicketEvent,
    failed: (error: unknown) => ParamsEvent | TicketEvent,
  ): void {
    this.#follow(owner, port);
    const step = (this.#step = new AbortController());
    const report = (event: ParamsEvent | TicketEvent) => {
      if (this.#step === step) owner.send(event);
    };
    // Started once the transition that entered the step is over and its listeners were
    // told (`onReconnecting` before `getAuthToken`), as an invoked actor would start.
    queueMicrotask(() => {
      if (this.#step !== step) return;
      work(step.signal, report).then(
        (value) => report(done(value)),
        (error) => report(failed(error)),
      );
    });
  }

  /** `abortStep`, as `params` or `ticket` is left: the pending step is aborted and what it reports dropped. */
  abortStep(): void {
    this.#step?.abort();
    this.#step = undefined;
  }

  /**
   * `openSocket`: opens the attempt's WebSocket on its ticket. A socket that cannot be
   * created (e.g. a malformed URL) is reported and fails the attempt like a dropped handshake.
   */
  open(owner: SocketLinkOwner, environment: SocketEnvironment, context: ConnectionContext, ticket: Ticket | undefined): void {
    const port = (this.#port = context.port ?? environment.port);
    this.#follow(owner, port);
    this.#opened = false;
    this.#unconfirmed = true;
    this.#awaitingAlive = false;
    this.#heed = true;
    const heartbeat = context.settings.heartbeatInterval > 0;
    let ws: WebSocketLike;
    try {
      const WebSocketImpl = environment.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
      if (!WebSocketImpl) throw new TypeError("no WebSocket implementation available");
      const params = context.attemptParams ?? (context.settings.params as QueryParams);
      ws = new WebSocketImpl(buildSocketUrl(context.wsUrl, context.path, params, ticket));
    } catch (error) {
      owner.send({ type: "socket.error", error: redactError(error) });
      owner.send({ type: "socket.closed", code: 1006, reason: "", wasClean: false });
      return;
    }
    this.#socket = ws;
    this.#stamp();

    ws.onopen = () => {
      // A socket opens once: the handler (and the listener `ws` wraps it in) need not stay.
      ws.onopen = null;
      this.#opened = true;
      this.#stamp();
      port.opened(this);
      if (heartbeat) (this.#clock = environment.clock).watch(this);
      owner.send({ type: "socket.open" });
    };
    // The hot path: per frame, one flag and the pong test (docs/protocol.md §5), and no
    // machine transition. What the machine needs from inbound frames is done in `#heard`,
    // once per run of frames delivered in the same task (`ws` hands over a whole TCP read
    // synchronously) and for a frame it waits for.
    ws.onmessage = (event: MessageEvent) => {
      if (this.#heed) this.#heard();
      if (event.data !== PONG_FRAME) port.message(event);
    };
    ws.onerror = (event: unknown) => owner.send({ type: "socket.error", error: redactErrorEvent(event) });
    ws.onclose = (event: CloseEvent) => {
      this.#detach();
      abandon(ws);
      owner.send({ type: "socket.closed", code: event.code, reason: event.reason ?? "", wasClean: event.wasClean });
    };
  }

  /** `confirmSocket`: reports `socket.confirmed` unless already confirmed or the socket is no longer OPEN. */
  confirm(): void {
    // Not OPEN: the server's close frame is in and its close event follows.
    if (this.#unconfirmed && this.#socket?.readyState === OPEN) this.#confirm();
  }

  /** `probeSocket`: reports `socket.silent` after a whole `heartbeatInterval` of silence, else `socket.active`. */
  probe(heartbeatInterval: number): void {
    if (!this.#socket) return;
    const idleFor = Math.max(Date.now() - this.#lastInboundAt, monotonic() - this.#lastInboundMonotonic);
    this.#owner?.send(idleFor >= heartbeatInterval ? { type: "socket.silent" } : { type: "socket.active", idleFor });
  }

  /** `pingSocket`: sends `{"type":"ping"}`; the next inbound frame is reported as `socket.alive`. */
  ping(): void {
    if (!this.#socket) return;
    this.#awaitingAlive = true;
    this.#heed = true;
    this.#socket.send(PING_FRAME);
  }

  /** `closeSocket`: starts the closing handshake; `socket.closed` follows with the close event. */
  close(code: number, reason: string): void {
    this.#socket?.close(code, reason || undefined);
  }

  /** `dropSocket`: closes the socket without waiting for its closing handshake and reports `socket.closed` at once. */
  drop(code: number, reason: string): void {
    const ws = this.#detach();
    if (!ws) return;
    abandon(ws, code, reason);
    this.#owner?.send({ type: "socket.closed", code, reason, wasClean: false });
  }

  /** `releaseSocket`, as the `socket` state is left: a socket still there is closed (1000) and forgotten. */
  release(): void {
    const ws = this.#detach();
    if (ws) abandon(ws, 1000);
  }

  /**
   * The connection actor stopped (`actor.stop()`) or ended. Stopping an actor runs no exit
   * actions, so a pending step is aborted and the socket let go of here, as leaving their
   * states does.
   */
  complete(): void {
    this.abortStep();
    try {
      this.release();
    } catch {
      // A socket that broke the machine (after a failure) may break again as it is let go; it is gone either way.
    }
  }

  /**
   * The connection actor failed (an action threw): let go as on a stop. Watching the actor
   * must not change how its error is reported: xstate counts an observer with `error` as
   * handling it, so when this watch is the actor's only observer and nothing above it
   * hears of it, the error is reported as unhandled here, as xstate would have done.
   */
  error(error: unknown): void {
    this.complete();
    const actor = this.#owner as { observers?: { size: number }; _parent?: unknown } | undefined;
    if (actor && !actor._parent && actor.observers?.size === 1) {
      setTimeout(() => {
        throw error;
      });
    }
  }

  /** From the ticker while the socket is open: a jump beyond `LATE_TIMER_TOLERANCE` is reported as `clock.jumped`. */
  clockRanAhead(ahead: number): void {
    if (ahead > LATE_TIMER_TOLERANCE) this.#owner?.send({ type: "clock.jumped", by: ahead });
  }

  send(data: SendData): void {
    this.#socket?.send(data);
  }

  get readyState(): number {
    return this.#socket?.readyState ?? CLOSED;
  }

  get bufferedAmount(): number {
    return this.#socket?.bufferedAmount ?? 0;
  }

  /**
   * Reports to `owner` from now on. Unless the port owns the actor (the facade, which never
   * stops one), the actor is watched once, so that a stopped actor lets go of what the link holds.
   */
  #follow(owner: SocketLinkOwner, port: SocketPort | undefined): void {
    if (!this.#owner && !port?.ownsActor) owner.subscribe(this);
    this.#owner = owner;
  }

  /**
   * The first frame of a run, or one the machine waits for, before it is delivered. The
   * clocks are read once per run, because a clock read costs more than delivering a frame:
   * the stamp can only be older than the last frame, so a ping may go out early and a drop
   * is never caused. The connection is confirmed here (docs/protocol.md §4: the frame's
   * listeners already see the socket open) and a ping counts as answered (§5).
   */
  #heard(): void {
    this.#heed = false;
    this.#stamp();
    queueMicrotask(() => {
      this.#heed = true;
    });
    if (this.#unconfirmed) this.#confirm();
    if (this.#awaitingAlive) {
      this.#awaitingAlive = false;
      this.#owner?.send({ type: "socket.alive" });
    }
  }

  #stamp(): void {
    this.#lastInboundAt = Date.now();
    this.#lastInboundMonotonic = monotonic();
  }

  #confirm(): void {
    this.#unconfirmed = false;
    this.#owner?.send({ type: "socket.confirmed" });
  }

  /** Stops following the socket: no more events from it, the port told. Returns it, if there was one. */
  #detach(): WebSocketLike | undefined {
    const ws = this.#socket;
    if (!ws) return undefined;
    this.#socket = undefined;
    this.#clock?.unwatch(this);
    this.#clock = undefined;
    if (this.#opened) this.#port.detached();
    return ws;
  }
}

/** What the `openSocket` action reads of xstate's action arguments. */
export interface OpenSocketArgs {
  /** The connection's context: the link, the URL's parts and the port. */
  context: ConnectionContext;
  /** `ticket.issued`, with the attempt's ticket. */
  event: unknown;
  /** The connection actor. */
  self: SocketLinkOwner;
}

/**
 * The `openSocket` action bound to an environment: the socket state's entry, which opens
 * the attempt's WebSocket on the ticket just fetched.
 */
export function createSocketOpener(runtime: ConnectionRuntime): (args: OpenSocketArgs) => void {
  const environment: SocketEnvironment = {
    WebSocket: runtime.WebSocket,
    port: runtime.port ?? droppingPort,
    clock: createClockTicker(CLOCK_CHECK_INTERVAL, Date.now),
  };
  return ({ context, event, self }) => context.link.open(self, environment, context, (event as { ticket?: Ticket }).ticket);
}

/** Calls `onJump` with how far the wall clock jumped ahead, until the returned function is called. */
export type ClockWatch = (clock: ClockWatchInput, onJump: (by: number) => void) => () => void;

/**
 * Watches for wall-clock jumps. Timers run on a monotonic clock that stands still while
 * the machine is suspended, so after a sleep a pending heartbeat interval still has its
 * whole remainder to run. Every `period` ms a shared ticker compares how far `now()` moved
 * with how far the timers' clock did; each watcher hears of a jump beyond its `tolerance`.
 * A clock set back never counts. One interval per period serves every open socket of a
 * runtime (a process sleeps as a whole), and it stops when the last watcher leaves.
 * Socket links listen to such a ticker themselves (no closures per socket) and send
 * `clock.jumped`.
 */
export function createClockWatch(now: () => number = Date.now): ClockWatch {
  const tickers = new Map<number, ClockTicker>();
  return (clock, onJump) => {
    let ticker = tickers.get(clock.period);
    if (!ticker) {
      ticker = createClockTicker(clock.period, now);
      tickers.set(clock.period, ticker);
    }
    const listener: ClockListener = {
      clockRanAhead(ahead) {
        if (ahead > clock.tolerance) onJump(ahead);
      },
    };
    ticker.watch(listener);
    return () => ticker.unwatch(listener);
  };
}

/** What a clock ticker calls at every tick the wall clock ran ahead. */
export interface ClockListener {
  /** The wall clock ran `ahead` ms further than the timers' clock within one period. */
  clockRanAhead(ahead: number): void;
}

/** One shared interval and its listeners. */
export interface ClockTicker {
  /** Adds a listener; the interval runs while there is one. */
  watch(listener: ClockListener): void;
  /** Removes a listener; the last one out stops the interval. */
  unwatch(listener: ClockListener): void;
}

/**
 * One `setInterval` for many watchers: runs while anyone watches, and reports how far the
 * wall clock ran ahead of the monotonic clock timers run on. Comparing the two clocks (not
 * the wall clock with the period) tells a sleep from a busy process: an event loop blocked
 * by a long GC or a slow task delays the tick, but both clocks advance alike.
 */
function createClockTicker(period: number, now: () => number): ClockTicker {
  const listeners = new Set<ClockListener>();
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
    for (const listener of [...listeners]) listener.clockRanAhead(ahead);
  };
  return {
    watch(listener) {
      listeners.add(listener);
      if (!timer) {
        lastWall = now();
        lastMonotonic = monotonicNow ? monotonicNow() : 0;
        timer = setInterval(tick, period);
      }
    },
    unwatch(listener) {
      listeners.delete(listener);
      if (listeners.size === 0 && timer !== undefined) {
        clearInterval(timer);
        timer = undefined;
      }
    },
  };
}
