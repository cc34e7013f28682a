/**
 * `sockstate/machine`: the XState v5 connection machine and its pure helpers.
 *
 * The machine's default actors use `globalThis.fetch` and `globalThis.WebSocket` and
 * drop data frames. To run it without the facade, provide actors bound to your
 * environment: `connectionMachine.provide({ actors: createConnectionActors({ WebSocket, port }) })`.
 */
export {
  CLOCK_CHECK_INTERVAL,
  connectionMachine,
  LATE_TIMER_TOLERANCE,
  OPEN_CONFIRMATION_DELAY,
} from "./connection.machine";
export type { ConnectionMachine } from "./connection.machine";
export { createClockWatch, createConnectionActors, requestTicket } from "./connection.actors";
export { toPublicAttempt, toPublicState } from "./connection.public";
export type { ConnectionSnapshot } from "./connection.public";
export {
  backoffCeiling,
  backoffDelay,
  buildSocketUrl,
  classifyClose,
  deriveWsUrl,
  HEARTBEAT_TIMEOUT_CODE,
  MIN_STABLE_UPTIME,
  PING_FRAME,
  PONG_FRAME,
  READY_STATE,
  redactTicket,
  stableUptime,
  TERMINAL_CLOSE_CODES,
  Ticket,
  TICKET_REJECTED_CODE,
  ticketEndpoint,
} from "./connection.utils";
export type { BackoffSettings, CloseDisposition, QueryParams } from "./connection.utils";
export type * from "./connection.types";
