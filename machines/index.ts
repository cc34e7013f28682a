/**
 * `sockstate/machine`: the XState v5 connection machine and its pure helpers.
 *
 * The machine's default implementations use `globalThis.fetch` and `globalThis.WebSocket`
 * and drop data frames. To run it without the facade, provide implementations bound to
 * your environment: `connectionMachine.provide(createConnectionImplementations({ WebSocket, port }))`.
 * @module sockstate/machine
 */
export { connectionMachine, OPEN_CONFIRMATION_DELAY } from "./connection.machine";
export type { ConnectionMachine } from "./connection.machine";
export { createConnectionImplementations, requestTicket } from "./connection.actors";
export type { StepArgs } from "./connection.actors";
export { CLOCK_CHECK_INTERVAL, createClockWatch, LATE_TIMER_TOLERANCE, SocketLink } from "./connection.socket";
export type { ClockListener, ClockTicker, ClockWatch, OpenSocketArgs, SocketEnvironment, SocketLinkOwner } from "./connection.socket";
export { toPublicAttempt, toPublicState } from "./connection.public";
export type { ConnectionSnapshot } from "./connection.public";
export { backoffCeiling, backoffDelay, buildSocketUrl, deriveWsUrl, MIN_STABLE_UPTIME, READY_STATE, redactTicket, stableUptime, Ticket } from "./connection.utils";
export { classifyClose, HEARTBEAT_TIMEOUT_CODE, PING_FRAME, PONG_FRAME, TERMINAL_CLOSE_CODES, TICKET_REJECTED_CODE, ticketEndpoint } from "./protocol";
export type { BackoffSettings, QueryParams } from "./connection.utils";
export type { CloseDisposition } from "./protocol";
export type * from "./connection.types";
