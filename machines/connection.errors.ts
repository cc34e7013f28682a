/**
 * Every error sockstate raises or emits. Each class sets `name` to its own
 * name so it survives serialization and `instanceof` across bundles is not needed.
 */
import type { StandardSchemaV1 } from "./standard-schema";

/** The ticket endpoint answered with a non-2xx status, an unusable body, or could not be reached (`status` 0). */
export class TicketError extends Error {
  /** Always `"TicketError"`. */
  override readonly name = "TicketError";
  /** HTTP status of the ticket response; `0` when no response arrived (network error, timeout, bad body on a 2xx is its real status). */
  readonly status: number;
  constructor(status: number, message?: string, options?: ErrorOptions) {
    super(message ?? `ticket request failed with status ${status}`, options);
    this.status = status;
  }
}

/** The server closed the socket with a terminal code (`4003`, `4004` or `1008`): no reconnect. */
export class ConnectionRejectedError extends Error {
  /** Always `"ConnectionRejectedError"`. */
  override readonly name = "ConnectionRejectedError";
  /** The close code the server sent. */
  readonly code: number;
  /** The close reason the server sent. */
  readonly reason: string;
  constructor(code: number, reason = "", options?: ErrorOptions) {
    super(`connection rejected by the server with code ${code}${reason ? `: ${reason}` : ""}`, options);
    this.code = code;
    this.reason = reason;
  }
}

/** A handshake did not complete within `connectTimeout`; the attempt was abandoned and is retried. */
export class ConnectTimeoutError extends Error {
  /** Always `"ConnectTimeoutError"`. */
  override readonly name = "ConnectTimeoutError";
  /** The `connectTimeout` that ran out, in ms. */
  readonly timeout: number;
  constructor(timeout: number) {
    super(`the WebSocket handshake did not complete within ${timeout} ms`);
    this.timeout = timeout;
  }
}

/**
 * `maxReconnectAttempts` attempts failed in a row; the socket is closed. `cause` is the last
 * failure: its error, or the `{ code, reason, wasClean }` of the close that ended it.
 */
export class ReconnectFailedError extends Error {
  /** Always `"ReconnectFailedError"`. */
  override readonly name = "ReconnectFailedError";
  /** How many attempts failed. */
  readonly attempts: number;
  constructor(attempts: number, options?: ErrorOptions) {
    super(`gave up after ${attempts} reconnect attempt${attempts === 1 ? "" : "s"}`, options);
    this.attempts = attempts;
  }
}

/** `send()` while not open and the outgoing queue already holds `maxQueuedMessages` messages. */
export class QueueFullError extends Error {
  /** Always `"QueueFullError"`. */
  override readonly name = "QueueFullError";
  /** The `maxQueuedMessages` that was reached. */
  readonly limit: number;
  constructor(limit: number) {
    super(`outgoing queue is full (maxQueuedMessages = ${limit}); the message was not queued`);
    this.limit = limit;
  }
}

/** `send()` on a socket that is `closing` or `closed`, or a pending `connect*` whose socket was closed before it opened. */
export class SocketClosedError extends Error {
  /** Always `"SocketClosedError"`. */
  override readonly name = "SocketClosedError";
  constructor(message = "the socket is closed", options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A text frame that `onData` could not deliver: it is not JSON, the socket's `schema`
 * rejected it, or the schema's validator threw or rejected (docs/protocol.md §4). The
 * frame goes to `onError` instead of `onData`; the connection stays open.
 */
export class MessageValidationError extends Error {
  /** Always `"MessageValidationError"`. */
  override readonly name = "MessageValidationError";
  /** What was wrong: the schema's issues, or one issue saying the frame is not JSON or the validator failed. */
  readonly issues: ReadonlyArray<StandardSchemaV1.Issue>;
  /** The raw text of the frame. */
  readonly data: string;
  constructor(message: string, issues: ReadonlyArray<StandardSchemaV1.Issue>, data: string, options?: ErrorOptions) {
    super(message, options);
    this.issues = issues;
    this.data = data;
  }
}
