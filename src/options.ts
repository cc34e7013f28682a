import type { InspectionEvent, Observer } from "xstate";
import type { ConnectionSettings, ParamsOption } from "../machines/connection.types";
import { queryParamsProblem } from "../machines/connection.utils";
import type { StandardSchemaV1 } from "../machines/standard-schema";
import { type EventIdSelector, validateDataOptions } from "./data-channel";

export type { ConnectionSettings };

/** Receives debug output when `debug` is a function. Details never contain a ticket. */
export type DebugLogger = (message: string, details: Record<string, unknown>) => void;

/** An XState inspection observer or callback, e.g. `createBrowserInspector().inspect`. */
export type InspectOption = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** Per-socket behaviour. Every field is optional; defaults are in {@link DEFAULT_SOCKET_OPTIONS}. */
export interface SocketOptions {
  /**
   * Base backoff in ms. Before reconnect attempt *n* the socket waits a delay drawn
   * uniformly from `[d/2, d]` where `d = min(maxReconnectDelay, reconnectDelay · 2^(n−1))`.
   * @default 1000
   */
  reconnectDelay?: number;
  /**
   * Cap of one backoff delay in ms.
   * @default 30000
   */
  maxReconnectDelay?: number;
  /**
   * Reconnect attempts after a failure before giving up with `ReconnectFailedError`
   * (a first connection that fails is tried once, then up to this many times).
   * The counter returns to 0 only after a connection stayed open for
   * `max(5000, reconnectDelay)` ms, so a server that accepts and drops at once cannot
   * cause a tight loop. `0` retries forever.
   * @default 0
   */
  maxReconnectAttempts?: number;
  /**
   * Ms of inbound silence after which the client sends `{"type":"ping"}`. Any inbound
   * frame counts as liveness. `0` disables the heartbeat.
   * @default 25000
   */
  heartbeatInterval?: number;
  /**
   * Ms to wait for any inbound frame after a ping before the connection is declared
   * dead, closed with code 4000 and reconnected. At least 1.
   * @default 10000
   */
  heartbeatTimeout?: number;
  /**
   * Ms a connection attempt may take before it is abandoned and retried: `getAuthToken`,
   * the ticket request and the WebSocket handshake each get this long. Also bounds how long a
   * requested close waits for the server's close frame. At least 1.
   * @default 10000
   */
  connectTimeout?: number;
  /**
   * Ms `connect*` waits for the first connection to be open (confirmed, see `state`)
   * before it closes the socket and rejects with `ConnectTimeoutError`, whose `cause` is
   * the last failure (a `TicketError`, a `{ code, reason, wasClean }` close, a network
   * error). So a misconfigured endpoint, a token provider that throws or a server that is
   * down is an error the `await` can catch, never a promise that waits forever. Does not
   * apply to `open()`, nor after the first open. `0` waits as long as the policy retries.
   * @default 30000
   */
  openTimeout?: number;
  /**
   * Bound of the outgoing queue while the socket is not open. `send()` beyond it throws
   * `QueueFullError`; nothing is dropped silently.
   * @default 100
   */
  maxQueuedMessages?: number;
  /**
   * Extra query parameters on the socket URL, URI-encoded after the ticket. Or a function
   * `({ attempt, lastEventId }) => params` (sync or async), called before every attempt's
   * ticket request (`attempt` 0 for the first connection, `n` for reconnect attempt `n`),
   * so each attempt can say where to resume. It gets `connectTimeout` ms; one that throws,
   * rejects, is too slow or returns unusable params (a `ticket` key included) fails the
   * attempt: reported on `onError`, retried with backoff.
   * @default {}
   */
  params?: ParamsOption;
  /**
   * `true` logs every event the socket's machine handles, with the state it is then in,
   * and every error it reports (name, status or code, message), with `console.debug`; a
   * function receives `(message, details)` instead. Tickets never appear in the output.
   * @default false
   */
  debug?: boolean | DebugLogger;
  /**
   * XState inspection observer for this socket's actor (overrides the client's).
   * @default undefined
   */
  inspect?: InspectOption;
  /**
   * A Standard Schema v1 object (zod ≥ 3.24, valibot ≥ 1, arktype ≥ 2, …) that every text
   * frame, parsed as JSON, must pass to reach `onData`; the socket's `onData` values then
   * have its output type. A frame that is not JSON, fails validation or makes the validator
   * throw goes to `onError` as `MessageValidationError` instead; the socket stays open.
   * Validation may be asynchronous: values are still delivered in frame order.
   * @default undefined (`onData` delivers the parsed JSON, typed `unknown`)
   */
  schema?: StandardSchemaV1;
  /**
   * `(data, event) => string | number | undefined`, called for every `onData` value; the
   * last defined result, `String()`ed, becomes `socket.lastEventId`, e.g. for a `params`
   * function to resume from. Setting it makes the socket parse every text frame even
   * with no `onData` listener.
   * @default undefined
   */
  eventId?: EventIdSelector;
}

/** The one place defaults live. README and TSDoc quote these values. */
export const DEFAULT_SOCKET_OPTIONS: Readonly<
  ConnectionSettings & {
    /** No debug output. */
    debug: false;
  }
> = Object.freeze({
  reconnectDelay: 1000,
  maxReconnectDelay: 30000,
  maxReconnectAttempts: 0,
  heartbeatInterval: 25000,
  heartbeatTimeout: 10000,
  connectTimeout: 10000,
  openTimeout: 30000,
  maxQueuedMessages: 100,
  params: Object.freeze({}) as ParamsOption,
  debug: false,
});

/**
 * The numeric options and the least value each takes. A timeout of 0 would fail every
 * attempt (or drop after every ping): at least 1 ms. `null`: a count, an integer ≥ 0.
 */
const NUMBER_OPTIONS: Readonly<Record<string, number | null>> = {
  reconnectDelay: 0,
  maxReconnectDelay: 0,
  heartbeatInterval: 0,
  heartbeatTimeout: 1,
  connectTimeout: 1,
  openTimeout: 0,
  maxReconnectAttempts: null,
  maxQueuedMessages: null,
};
/** The longest delay timers honour (2^31 − 1 ms); beyond it they fire after 1 ms. */
const MAX_DELAY = 2_147_483_647;
/** Every option: those with a default, and those without one. */
const KNOWN_OPTIONS = new Set<string>([...Object.keys(DEFAULT_SOCKET_OPTIONS), "inspect", "schema", "eventId"]);

/** The full set of socket options after defaults, as a socket runs with them. */
export type ResolvedSocketOptions = ConnectionSettings & {
  debug: boolean | DebugLogger;
  inspect: InspectOption | undefined;
  schema?: StandardSchemaV1 | undefined;
  eventId?: EventIdSelector | undefined;
};

/** The machine's settings: the resolved options without the facade's (`debug`, `inspect`, `schema`, `eventId`). */
export function toConnectionSettings(options: ResolvedSocketOptions): ConnectionSettings {
  const { debug: _debug, inspect: _inspect, schema: _schema, eventId: _eventId, ...settings } = options;
  return settings;
}

/**
 * Checks `options` and throws a `TypeError` that names the first bad option, or an
 * unknown one (a misspelled option would otherwise be ignored). `source` says where the
 * options came from, for the message.
 */
export function validateSocketOptions(
  options: unknown,
  source = "options",
): asserts options is SocketOptions {
  if (options === undefined) return;
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(`sockstate: ${source} must be an object`);
  }
  const record = options as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    if (!KNOWN_OPTIONS.has(name)) {
      throw new TypeError(`sockstate: unknown option ${JSON.stringify(name)} in ${source}`);
    }
  }
  for (const [name, min] of Object.entries(NUMBER_OPTIONS)) {
    const value = record[name];
    if (value === undefined) continue;
    if (min === null) {
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
        throw new TypeError(`sockstate: ${name} must be an integer >= 0, got ${describe(value)}`);
      }
    } else if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > MAX_DELAY) {
      throw new TypeError(`sockstate: ${name} must be a number of ms from ${min} to ${MAX_DELAY}, got ${describe(value)}`);
    }
  }
  const params = record.params;
  if (params !== undefined && typeof params !== "function") {
    const problem = queryParamsProblem(params, "params");
    if (problem) throw new TypeError(`sockstate: ${problem} (or a function that returns them)`);
  }
  const debug = record.debug;
  if (debug !== undefined && typeof debug !== "boolean" && typeof debug !== "function") {
    throw new TypeError(`sockstate: debug must be a boolean or a function, got ${describe(debug)}`);
  }
  const inspect = record.inspect;
  if (inspect !== undefined && typeof inspect !== "function" && (inspect === null || typeof inspect !== "object")) {
    throw new TypeError(`sockstate: inspect must be an inspection observer or function, got ${describe(inspect)}`);
  }
  validateDataOptions(record);
}

/** Merges client defaults and per-socket options, validated, over {@link DEFAULT_SOCKET_OPTIONS}. */
export function resolveSocketOptions(...layers: Array<SocketOptions | undefined>): ResolvedSocketOptions {
  const resolved: ResolvedSocketOptions = { ...DEFAULT_SOCKET_OPTIONS, inspect: undefined };
  for (const layer of layers) {
    if (!layer) continue;
    for (const [name, value] of Object.entries(layer)) {
      if (value !== undefined) (resolved as unknown as Record<string, unknown>)[name] = value;
    }
  }
  if (typeof resolved.params !== "function") resolved.params = { ...resolved.params };
  return resolved;
}

export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value == null) return String(value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}
