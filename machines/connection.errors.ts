/**
 * Every error sockstate raises or emits. Each class sets `name` to its own
 * name so it survives serialization and `instanceof` across bundles is not needed.
 */
import { messageOf } from "./connection.utils";
import type { StandardSchemaV1 } from "./standard-schema";

/**
 * The ticket endpoint answered with a non-2xx status or an unusable body, could not be
 * reached (`status` 0), or the token provider failed first (`status` 0, `cause` the value it
 * threw). The message names the socket path the ticket was for and the status, never a ticket.
 */
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

/** How a connection ended, when the server or the network closed it. */
export interface CloseCause {
  code: number;
  reason: string;
  wasClean: boolean;
}

/**
 * A failure in words, for the message of the error that carries it as `cause`:
 * `TicketError: …`, `closed with code 1006 (not clean)`, `a WebSocket error event`.
 */
export function describeFailure(failure: unknown): string {
  if (failure instanceof Error) return `${failure.name}: ${failure.message}`;
  if (typeof failure === "object" && failure !== null && typeof (failure as { code?: unknown }).code === "number" && "wasClean" in failure) {
    const { code, reason, wasClean } = failure as CloseCause;
    return `closed with code ${code}${reason ? ` "${reason}"` : ""}${wasClean ? "" : " (not clean)"}`;
  }
  if (failure === undefined) return "none yet (the first attempt was still under way)";
  if (typeof failure === "object" && (failure as { type?: unknown }).type === "error") return "a WebSocket error event";
  return messageOf(failure);
}

/** Which bound a {@link ConnectTimeoutError} reports. */
export type ConnectTimeoutStep = "handshake" | "open";

/**
 * A connection took too long. Two bounds raise it:
 *
 * - `step: "open"` — the first connection was not open within `openTimeout`: the socket
 *   is closed and `connect*` rejects with this error. `cause` is the last failure (a
 *   `TicketError`, a `{ code, reason, wasClean }` close, a network error), and the
 *   message quotes it.
 * - `step: "handshake"` — one WebSocket handshake did not complete within
 *   `connectTimeout`; reported on `onError`, and the attempt is retried.
 */
export class ConnectTimeoutError extends Error {
  /** Always `"ConnectTimeoutError"`. */
  override readonly name = "ConnectTimeoutError";
  /** The timeout that ran out, in ms: `openTimeout` or `connectTimeout`. */
  readonly timeout: number;
  /** Which bound ran out. */
  readonly step: ConnectTimeoutStep;
  constructor(timeout: number, options: ErrorOptions & { step?: ConnectTimeoutStep; path?: string } = {}) {
    const { step = "handshake", path, ...errorOptions } = options;
    const where = path ? ` for ${path}` : "";
    super(
      step === "open"
        ? `no open connection${where} within ${timeout} ms (openTimeout); last failure: ${describeFailure(options.cause)}`
        : `the WebSocket handshake${where} did not complete within ${timeout} ms (connectTimeout)`,
      errorOptions,
    );
    this.timeout = timeout;
    this.step = step;
  }
}

/**
 * `maxReconnectAttempts` attempts failed in a row; the socket is closed. `cause` is the last
 * failure: its error, or the `{ code, reason, wasClean }` of the close that ended it; the
 * message quotes it.
 */
export class ReconnectFailedError extends Error {
  /** Always `"ReconnectFailedError"`. */
  override readonly name = "ReconnectFailedError";
  /** How many attempts failed. */
  readonly attempts: number;
  constructor(attempts: number, options?: ErrorOptions) {
    const last = options && "cause" in options ? `; last failure: ${describeFailure(options.cause)}` : "";
    super(`gave up after ${attempts} reconnect attempt${attempts === 1 ? "" : "s"}${last}`, options);
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
