/**
 * The connection machine: the whole behaviour of one managed socket (docs/protocol.md §2–§5, §8).
 *
 *   starting ─► [params] ─► ticket.{authorizing → requesting} ─► socket.{handshake → confirming} ─► socket.open.{live ⇄ probing ⇄ awaitingPong → repinging}
 *     ▲                                                           │                                  │ heartbeatTimeout
 *     │                                                           ▼                                  ▼
 *   backoff ◄── lost ◄─────────────────────────────────── socket.closed ◄──────────────────── socket.dropping (4000)
 *     refreshing (4001) ─► starting                                               socket.closing ─► closed (final)
 *
 * `params` is entered only when the `params` option is a function: it computes this
 * attempt's query parameters (docs/protocol.md §3).
 *
 * Until the first connection is confirmed, `openTimeout` bounds the whole: it closes the
 * socket with a `ConnectTimeoutError` (docs/protocol.md §2).
 *
 * Every guard, action and delay is named in `setup()`; states only refer to them. IO
 * lives in the actions that drive the context's `SocketLink` (connection.socket.ts):
 * entering `params` or `ticket` starts that step and leaving it aborts it (its outcome
 * comes back as `params.*` / `ticket.*` events); entering `socket` opens the WebSocket,
 * leaving it lets go of it. Timers are `after` delays: leaving a state cancels them.
 * The stable uptime (docs/protocol.md §3) is no timer: an open connection notes when it
 * opened, and leaving it resets the attempt counter if it stayed open that long.
 */
import { assign, cancel, emit, enqueueActions, setup } from "xstate";
import { ConnectionRejectedError, ConnectTimeoutError, ReconnectFailedError, TicketError } from "./connection.errors";
import { computeParams, createConnectionImplementations, paramsTimedOut, ticketTimedOut, tokenTimedOut } from "./connection.actors";
import { LATE_TIMER_TOLERANCE, SocketLink } from "./connection.socket";
import type {
  ConnectionContext,
  ConnectionEmitted,
  ConnectionEvent,
  ConnectionInput,
  ConnectionTag,
} from "./connection.types";
import { backoffCeiling, backoffDelay, stableUptime } from "./connection.utils";
import { classifyClose, HEARTBEAT_TIMEOUT_CODE, isTerminalTicketStatus } from "./protocol";

/**
 * How long a connection must stay open, without a close and without a frame, before it
 * counts as accepted (docs/protocol.md §4). Servers refuse by accepting the upgrade and
 * closing at once (4001, 4003, …); until this window ends or the first frame arrives the
 * public state is not `open`, so a refusal never shows as open.
 */
export const OPEN_CONFIRMATION_DELAY = 50;

/** The id of the scheduled `timer.openTimeout` event, cancelled at the first confirmation. */
const OPEN_TIMEOUT_ID = "openTimeout";

/** Bound to `globalThis.fetch` and `globalThis.WebSocket`, dropping data frames. */
const defaults = createConnectionImplementations();

/**
 * What an emitting action emits, told first to the connection's port: the facade hears
 * the machine's events there, with no `actor.on()` listener per socket.
 */
function toPort<E extends ConnectionEmitted>(context: ConnectionContext, event: E): E {
  context.port?.emitted?.(event);
  return event;
}

/**
 * The XState v5 machine every managed socket runs: tickets, handshake, confirmation,
 * heartbeat, backoff and closing (docs/protocol.md §2–§5, §8). Its states are drawn in
 * `visualizations/`.
 */
export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
    emitted: {} as ConnectionEmitted,
    tags: {} as ConnectionTag,
  },
  delays: {
    /** Backoff before the next attempt: uniform in [d/2, d] (docs/protocol.md §3). */
    retryDelay: ({ context }) => backoffDelay(context.attempt, context.settings),
    /** Bound on the token provider, on the ticket request and on the handshake, each. */
    connectTimeout: ({ context }) => context.settings.connectTimeout,
    /** Bound on the first connection, from creation to confirmation. */
    openTimeout: ({ context }) => context.settings.openTimeout,
    /** Bound on a requested close waiting for the server's close frame. */
    closeTimeout: ({ context }) => context.settings.connectTimeout,
    /** Inbound silence before a probe; shortened by how long the link has already been quiet. */
    heartbeatInterval: ({ context, event }) =>
      event.type === "socket.active"
        ? Math.min(context.settings.heartbeatInterval, Math.max(0, context.settings.heartbeatInterval - event.idleFor))
        : context.settings.heartbeatInterval,
    heartbeatTimeout: ({ context }) => context.settings.heartbeatTimeout,
    /** Open this long without a close from the server: the connection was accepted. */
    openConfirmation: OPEN_CONFIRMATION_DELAY,
  },
  guards: {
    isTicketRefused: ({ event }) =>
      "error" in event && event.error instanceof TicketError && isTerminalTicketStatus(event.error.status),
    isTerminalClose: ({ event }) => event.type === "socket.closed" && classifyClose(event.code) === "terminal",
    isTicketRejected: ({ event }) => event.type === "socket.closed" && classifyClose(event.code) === "refresh-ticket",
    /** The backoff delay is 0 (`reconnectDelay: 0`): the next attempt starts without a timer. */
    hasNoBackoff: ({ context }) => backoffCeiling(context.attempt, context.settings) === 0,
    canRetry: ({ context }) =>
      context.settings.maxReconnectAttempts === 0 || context.attempt < context.settings.maxReconnectAttempts,
    isHeartbeatEnabled: ({ context }) => context.settings.heartbeatInterval > 0,
    /** `params` is a function: every attempt computes its own query parameters first. */
    hasParamsFunction: ({ context }) => typeof context.settings.params === "function",
    /** No connection has been confirmed yet: `openTimeout` still applies. */
    isFirstConnection: ({ context }) => context.connections === 0,
    /** The timeout fired well after it was due: the process was asleep, not the link dead. */
    wasTimerLate: ({ context }) =>
      Date.now() - context.pingSentAt > context.settings.heartbeatTimeout + LATE_TIMER_TOLERANCE,
  },
  actions: {
    countAttempt: assign({ attempt: ({ context }) => context.attempt + 1 }),
    /** Leaving an open connection that stayed open the stable uptime: the counter returns to 0 (docs/protocol.md §3). */
    resetAttemptsIfStable: assign({
      attempt: ({ context }) => (Date.now() - context.openedAt >= stableUptime(context.settings.reconnectDelay) ? 0 : context.attempt),
    }),
    /** Before `countConnection`: `reconnected` says whether an earlier connection was confirmed. */
    announceEstablished: emit(({ context }) =>
      toPort(context, {
        type: "established" as const,
        reconnected: context.connections > 0,
        attempt: context.attempt,
        downtime: context.droppedAt === undefined ? 0 : Math.max(0, Date.now() - context.droppedAt),
      }),
    ),
    noteOpened: assign({ openedAt: () => Date.now() }),
    noteDropped: assign({ droppedAt: () => Date.now() }),
    recordParams: assign({ attemptParams: ({ context, event }) => (event.type === "params.computed" ? event.params : context.attemptParams) }),
    recordParamsTimeout: assign({ lastFailure: ({ context }) => paramsTimedOut(context.settings.connectTimeout, context.path) }),
    countConnection: assign({ connections: ({ context }) => context.connections + 1 }),
    /** Schedules `timer.openTimeout`, unless `openTimeout` is 0 (wait as the policy retries). */
    startOpenTimeout: enqueueActions(({ context, enqueue }) => {
      if (context.settings.openTimeout > 0) enqueue.raise({ type: "timer.openTimeout" }, { id: OPEN_TIMEOUT_ID, delay: "openTimeout" });
    }),
    cancelOpenTimeout: cancel(OPEN_TIMEOUT_ID),
    recordOpenTimeout: assign({
      error: ({ context }) =>
        new ConnectTimeoutError(context.settings.openTimeout, { step: "open", path: context.path, cause: context.lastFailure }),
    }),
    announceAttempt: emit(({ context }) => toPort(context, { type: "reconnecting" as const, attempt: context.attempt })),
    reportError: emit(({ context, event }) => toPort(context, { type: "error" as const, error: "error" in event ? event.error : event })),
    recordTicketRefusal: assign({ error: ({ event }) => ("error" in event ? (event.error as Error) : undefined) }),
    recordRejection: assign({
      error: ({ event }) =>
        event.type === "socket.closed" ? new ConnectionRejectedError(event.code, event.reason) : undefined,
    }),
    recordAttemptsExhausted: assign({
      error: ({ context }) => new ReconnectFailedError(context.attempt, { cause: context.lastFailure }),
    }),
    recordFailure: assign({
      lastFailure: ({ event }) =>
        event.type === "socket.closed"
          ? { code: event.code, reason: event.reason, wasClean: event.wasClean }
          : "error" in event
            ? event.error
            : undefined,
    }),
    recordTokenTimeout: assign({ lastFailure: ({ context }) => tokenTimedOut(context.settings.connectTimeout, context.path) }),
    recordTicketTimeout: assign({ lastFailure: ({ context }) => ticketTimedOut(context.settings.connectTimeout, context.path) }),
    recordHandshakeTimeout: assign({
      lastFailure: ({ context }) => new ConnectTimeoutError(context.settings.connectTimeout, { path: context.path }),
    }),
    reportFailure: emit(({ context }) => toPort(context, { type: "error" as const, error: context.lastFailure })),
    reportClosingError: emit(({ context }) => toPort(context, { type: "error" as const, error: context.error })),
    recordCloseRequest: assign({
      closeRequest: ({ event }) =>
        event.type === "connection.close" ? { code: event.code, reason: event.reason } : { code: 1000, reason: "" },
    }),
    notePingSent: assign({ pingSentAt: () => Date.now() }),
    /** Calls the `params` function for this attempt; `params.computed` or `params.failed` follows. */
    computeParams,
    /** Requests this attempt's ticket; bound to the environment by `createConnectionImplementations`. */
    fetchTicket: defaults.actions.fetchTicket,
    /** Leaving `params` or `ticket`: the step still pending is aborted, and what it reports is dropped. */
    abortStep: ({ context }) => context.link.abortStep(),
    /** Opens the attempt's WebSocket on the ticket just fetched; bound to the environment by `createConnectionImplementations`. */
    openSocket: defaults.actions.openSocket,
    /** Reports `socket.confirmed` if the socket is still OPEN (a close frame makes it CLOSING) and not confirmed yet. */
    confirmSocket: ({ context }) => context.link.confirm(),
    /** Reports `socket.silent` if nothing arrived for a heartbeat interval, else `socket.active`. */
    probeSocket: ({ context }) => context.link.probe(context.settings.heartbeatInterval),
    /** Sends `{"type":"ping"}`; the next inbound frame is reported as `socket.alive`. */
    pingSocket: ({ context }) => context.link.ping(),
    /** Starts the closing handshake with the requested close; `socket.closed` follows with the close event. */
    closeSocket: ({ context }) => context.link.close(context.closeRequest.code, context.closeRequest.reason),
    /** Closes without waiting for the closing handshake and reports `socket.closed` at once. */
    dropSocket: ({ context }) => context.link.drop(HEARTBEAT_TIMEOUT_CODE, "heartbeat timeout"),
    /** Leaving `socket`: a socket still there is closed and no longer heard. */
    releaseSocket: ({ context }) => context.link.release(),
  },
}).createMachine({
  id: "connection",
  context: ({ input }) => ({
    ...input,
    attempt: 0,
    closeRequest: { code: 1000, reason: "" },
    error: undefined,
    lastFailure: undefined,
    pingSentAt: 0,
    connections: 0,
    attemptParams: undefined,
    droppedAt: undefined,
    openedAt: 0,
    link: new SocketLink(),
  }),
  entry: "startOpenTimeout",
  initial: "starting",
  on: {
    "socket.error": { actions: "reportError" },
    "connection.close": { target: "#connection.closed", actions: "recordCloseRequest" },
    // Cancelled at the first confirmation; the guard keeps a late one from acting after it.
    "timer.openTimeout": {
      guard: "isFirstConnection",
      target: "#connection.closed",
      actions: ["recordOpenTimeout", "reportClosingError"],
    },
  },
  states: {
    starting: {
      description: "An attempt starts: with a params function, its query parameters first; else the ticket at once.",
      always: [{ guard: "hasParamsFunction", target: "params" }, { target: "ticket" }],
    },
    params: {
      description: "The params function computes this attempt's query parameters (sync or async).",
      tags: ["attempt"],
      entry: "computeParams",
      exit: "abortStep",
      on: {
        "params.computed": { target: "ticket", actions: "recordParams" },
        "params.failed": { target: "lost", actions: ["recordFailure", "reportError"] },
      },
      after: { connectTimeout: { target: "lost", actions: ["recordParamsTimeout", "reportFailure"] } },
    },
    ticket: {
      description: "Fetching a fresh single-use ticket over HTTP; every attempt has its own.",
      tags: ["attempt"],
      entry: "fetchTicket",
      exit: "abortStep",
      on: {
        "ticket.issued": { target: "socket" },
        "ticket.failed": [
          {
            guard: "isTicketRefused",
            target: "closed",
            actions: ["recordTicketRefusal", "reportError"],
          },
          { target: "lost", actions: ["recordFailure", "reportError"] },
        ],
      },
      initial: "authorizing",
      states: {
        authorizing: {
          description: "Waiting for getAuthToken (when there is one); no request is out yet.",
          on: { "ticket.authorized": { target: "requesting" } },
          after: { connectTimeout: { target: "#connection.lost", actions: ["recordTokenTimeout", "reportFailure"] } },
        },
        requesting: {
          description: "The ticket request is out.",
          after: { connectTimeout: { target: "#connection.lost", actions: ["recordTicketTimeout", "reportFailure"] } },
        },
      },
    },
    socket: {
      description: "A WebSocket exists: handshake, open, or closing. Opened on entry, let go of on exit.",
      entry: "openSocket",
      exit: "releaseSocket",
      initial: "handshake",
      on: {
        // The server closed or the network dropped the socket (handshake or open).
        "socket.closed": [
          { guard: "isTerminalClose", target: "closed", actions: ["recordRejection", "reportClosingError"] },
          { guard: "isTicketRejected", target: "refreshing", actions: "recordFailure" },
          { target: "lost", actions: "recordFailure" },
        ],
      },
      states: {
        handshake: {
          tags: ["attempt"],
          on: { "socket.open": { target: "confirming" } },
          after: {
            connectTimeout: { target: "#connection.lost", actions: ["recordHandshakeTimeout", "reportFailure"] },
          },
        },
        confirming: {
          description:
            "The upgrade was accepted; servers refuse by closing at once. Open once the first frame arrives or the window ends with the socket still OPEN.",
          // Not `open` to the public: a refusal never shows as open; sends queue meanwhile.
          tags: ["attempt"],
          after: {
            // A refusal may still be in its closing handshake when the window ends:
            // `confirmSocket` confirms only a socket that is still OPEN.
            openConfirmation: { actions: "confirmSocket" },
          },
          on: {
            "socket.confirmed": {
              target: "open",
              actions: ["announceEstablished", "countConnection", "cancelOpenTimeout"],
            },
          },
        },
        open: {
          tags: ["open"],
          entry: "noteOpened",
          // However it ends (a drop, a heartbeat timeout, close()): `onOpen`'s downtime counts
          // from here, and the attempt counter returns to 0 if it was open long enough.
          exit: ["noteDropped", "resetAttemptsIfStable"],
          initial: "live",
          on: {
            "connection.close": { target: "closing", actions: "recordCloseRequest" },
          },
          states: {
            live: {
              description: "Frames flow; the heartbeat waits for an interval of silence.",
              after: { heartbeatInterval: { guard: "isHeartbeatEnabled", target: "probing" } },
              on: {
                "connection.wake": { guard: "isHeartbeatEnabled", target: "awaitingPong" },
                "clock.jumped": { guard: "isHeartbeatEnabled", target: "awaitingPong" },
              },
            },
            probing: {
              description: "Asks the socket how long the link has been quiet.",
              entry: "probeSocket",
              on: {
                "socket.active": { target: "live" },
                "socket.silent": { target: "awaitingPong" },
              },
            },
            awaitingPong: {
              description: "A ping is out; any inbound frame proves the link alive.",
              entry: ["notePingSent", "pingSocket"],
              on: { "socket.alive": { target: "live" } },
              after: {
                heartbeatTimeout: [
                  { guard: "wasTimerLate", target: "repinging" },
                  { target: "#connection.socket.dropping" },
                ],
              },
            },
            repinging: {
              description:
                "The timeout fired late (the process slept or was throttled): one more ping, and its timeout counts even if late.",
              entry: ["notePingSent", "pingSocket"],
              on: { "socket.alive": { target: "live" } },
              after: { heartbeatTimeout: { target: "#connection.socket.dropping" } },
            },
          },
        },
        dropping: {
          description: "Heartbeat timeout: the client closes the dead link with 4000 and moves on at once.",
          // Left within the same tick (`dropSocket` answers at once). Still `open` to
          // the public, so the next public state is decided once: `reconnecting`, or
          // `closed` when no attempt is left, exactly as after a server close.
          tags: ["open"],
          entry: "dropSocket",
          on: { "socket.closed": { target: "#connection.lost", actions: "recordFailure" } },
        },
        closing: {
          description: "A requested close waits for the server's close frame.",
          tags: ["closing"],
          entry: "closeSocket",
          on: {
            "connection.close": {},
            "socket.closed": { target: "#connection.closed" },
          },
          after: { closeTimeout: { target: "#connection.closed" } },
        },
      },
    },
    lost: {
      description: "An attempt failed or an open connection dropped: back off, or give up.",
      always: [
        { guard: "canRetry", target: "backoff", actions: "countAttempt" },
        { target: "closed", actions: ["recordAttemptsExhausted", "reportClosingError"] },
      ],
    },
    refreshing: {
      description: "The server rejected the ticket (4001): fetch a new one at once; it counts as an attempt.",
      always: [
        { guard: "canRetry", target: "starting", actions: ["countAttempt", "announceAttempt"] },
        { target: "closed", actions: ["recordAttemptsExhausted", "reportClosingError"] },
      ],
    },
    backoff: {
      description: "Waiting out the jittered backoff delay before the next attempt.",
      tags: ["reconnecting"],
      // With no delay to wait out, the next attempt starts in the same step, not on a timer.
      always: { guard: "hasNoBackoff", target: "starting", actions: "announceAttempt" },
      after: { retryDelay: { target: "starting", actions: "announceAttempt" } },
      on: { "connection.wake": { target: "starting", actions: "announceAttempt" } },
    },
    closed: {
      description: "Final. No timers, no socket, no further reconnects.",
      tags: ["closed"],
      type: "final",
    },
  },
});

/** The type of {@link connectionMachine}: XState's `StateMachine` with sockstate's context, events and emitted events. */
export type ConnectionMachine = typeof connectionMachine;
