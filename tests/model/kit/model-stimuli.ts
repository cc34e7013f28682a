/**
 * The stimuli of the connection model: things that happen in the world around one
 * managed socket (the ticket endpoint answers, the server accepts or closes, the user
 * calls `close()`, time passes, the page becomes visible). Every machine event maps to
 * one or more of them; a model path is a sequence of stimuli.
 */
import type { SocketOptions } from "../../../src/options";

/** What the scripted ticket endpoint answers: an HTTP status, or `"network"` for a failed fetch. */
export type TicketAnswer = 200 | 401 | 403 | 404 | 500 | "network";

/**
 * What a `time.pass` stimulus waits out: a named delay of the connection machine, or the
 * stable uptime (no timer: the machine compares it with the uptime when the connection ends).
 */
export type ModelTimer =
  | "connectTimeout"
  | "retryDelay"
  | "openConfirmation"
  | "stableUptime"
  | "heartbeatInterval"
  | "heartbeatTimeout"
  | "closeTimeout";

/** One thing that happens to a socket, executed by the model driver. */
export type Stimulus =
  /** The pending ticket request is answered. */
  | { type: "ticket.answer"; answer: TicketAnswer }
  /** The server completes the pending WebSocket handshake. */
  | { type: "server.accept" }
  /** The pending handshake fails with a close `code` before the socket opens (1006: unreachable). */
  | { type: "server.refuse"; code: number }
  /** The server closes the open socket with `code` (1006: the connection dropped). */
  | { type: "server.close"; code: number }
  /**
   * A refusal racing the open confirmation: the server's close frame with `code` arrives
   * just before the confirmation window ends (the socket is `CLOSING`), its close event
   * just after.
   */
  | { type: "server.closeLate"; code: number }
  /** The server's first data frame arrives while the connection is being confirmed: it confirms it at once. */
  | { type: "server.greet" }
  /** The server answers a heartbeat ping with `{"type":"pong"}`. */
  | { type: "server.pong" }
  /** The socket reports an `error` event. */
  | { type: "server.error" }
  /** The server answers the client's close frame: the requested close completes. */
  | { type: "server.closeAck" }
  /** The application ends the socket: `socket.close()`, `socket.destroy()` or `manager.closeAll()`. */
  | { type: "user.close"; via: "close" | "destroy" | "closeAll" }
  /** The page becomes visible again, or the network comes back online. */
  | { type: "env.wake"; via: "visibilitychange" | "online" }
  /**
   * Time passes until the machine's `timer` fires. `linkActive`: a data frame arrived
   * during the heartbeat interval, so no ping is needed. `late`: the process slept, so
   * the heartbeat timeout fires long after it was due.
   */
  | { type: "time.pass"; timer: ModelTimer; linkActive?: boolean; late?: boolean }
  /** The wall clock jumps ahead (the machine slept) while the timers stood still. */
  | { type: "time.jump" };

/** The socket options the model's timing rests on. */
export type ModelSocketOptions = Readonly<
  Required<
    Pick<
      SocketOptions,
      "connectTimeout" | "heartbeatInterval" | "heartbeatTimeout" | "reconnectDelay" | "maxReconnectDelay" | "maxReconnectAttempts"
    >
  >
>;

/**
 * Socket options the model's timing assumes; pass them (and the driver's `inspect`) to
 * the socket under test. The delays are spaced so that the order in which timers fire is
 * known: `openConfirmation` (50) < `heartbeatTimeout` < stable uptime (5000) < `heartbeatInterval`,
 * and off the 1 s grid of the wall-clock check so that no two timers fire at the same instant.
 */
export const MODEL_SOCKET_OPTIONS: ModelSocketOptions = Object.freeze({
  connectTimeout: 1000,
  heartbeatInterval: 6500,
  heartbeatTimeout: 1300,
  reconnectDelay: 1000,
  maxReconnectDelay: 4000,
  maxReconnectAttempts: 2,
});

/** A short human-readable name of a stimulus, e.g. `server closes 4001`. */
export function describeStimulus(stimulus: Stimulus): string {
  switch (stimulus.type) {
    case "ticket.answer":
      return stimulus.answer === "network" ? "ticket request fails" : `ticket ${stimulus.answer}`;
    case "server.accept":
      return "server accepts";
    case "server.refuse":
      return `handshake fails ${stimulus.code}`;
    case "server.close":
      return `server closes ${stimulus.code}`;
    case "server.closeLate":
      return `server closes ${stimulus.code} as the confirmation window ends`;
    case "server.greet":
      return "server greets";
    case "server.pong":
      return "server pongs";
    case "server.error":
      return "socket error";
    case "server.closeAck":
      return "server completes the close";
    case "user.close":
      return stimulus.via === "closeAll" ? "closeAll()" : `${stimulus.via}()`;
    case "env.wake":
      return stimulus.via === "online" ? "network online" : "page visible";
    case "time.pass":
      return `${stimulus.timer} passes${stimulus.linkActive ? " (link active)" : ""}${stimulus.late ? " (late)" : ""}`;
    case "time.jump":
      return "wall clock jumps";
  }
}
