/**
 * Pure helpers of the connection machine: backoff, option-free URL building,
 * the ticket kept out of anything printable. The protocol's own
 * constants and close-code rules live in `./protocol`.
 */
import type { QueryParams } from "./connection.types";
import { trimTrailingSlash } from "./protocol";

/** Does nothing; one shared function wherever a callback or cleanup is required but nothing is to be done. */
export const noop = (): void => {};

/**
 * An error's message, or a thrown value that is no `Error` as a string; one that cannot be
 * made a string (`Object.create(null)`, a throwing `toString`) by its tag, `[object Object]`,
 * so that describing a failure never fails itself.
 */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}

/** `WebSocket.readyState` values (the constants are not on every implementation's prototype). */
export const READY_STATE = {
  /** Handshake under way. */
  CONNECTING: 0,
  /** Open. */
  OPEN: 1,
  /** A close frame was sent or received. */
  CLOSING: 2,
  /** Closed. */
  CLOSED: 3,
} as const;
/** Minimum uptime before the attempt counter resets, whatever `reconnectDelay` is. */
export const MIN_STABLE_UPTIME = 5000;

/** The two options the backoff delay depends on (docs/protocol.md §3). */
export interface BackoffSettings {
  /** Base backoff in ms. */
  reconnectDelay: number;
  /** Cap of one backoff delay in ms. */
  maxReconnectDelay: number;
}

/** The upper bound `d = min(maxReconnectDelay, reconnectDelay · 2^(attempt−1))` for attempt ≥ 1. */
export function backoffCeiling(attempt: number, settings: BackoffSettings): number {
  // Without a base delay every delay is 0 (and 0 · 2^1024 would be 0 · Infinity = NaN).
  if (settings.reconnectDelay === 0) return 0;
  const exponent = Math.max(0, attempt - 1);
  // 2^1024 is Infinity; Math.min keeps the cap either way.
  return Math.min(settings.maxReconnectDelay, settings.reconnectDelay * 2 ** exponent);
}

/** Delay before reconnect attempt `attempt`, drawn uniformly from `[d/2, d]`. */
export function backoffDelay(attempt: number, settings: BackoffSettings, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(attempt, settings);
  return ceiling / 2 + random() * (ceiling / 2);
}

/** How long a connection must stay open before the attempt counter resets. */
export function stableUptime(reconnectDelay: number): number {
  return Math.max(MIN_STABLE_UPTIME, reconnectDelay);
}

/** `apiUrl` with http→ws and https→wss, the default socket base. */
export function deriveWsUrl(apiUrl: string): string {
  return apiUrl.replace(/^http(s?):/i, (_, secure: string) => `ws${secure}:`);
}

export type { QueryParams };

/**
 * Why `value` is not usable as query parameters (an object of strings, numbers,
 * booleans or `undefined` without a `ticket` key, which is reserved for the connection ticket), or
 * `undefined` when it is. `label` names the value in the message, e.g. `params`.
 */
export function queryParamsProblem(value: unknown, label: string): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return `${label} must be an object of strings, numbers or booleans, got ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`;
  }
  for (const [key, entry] of Object.entries(value)) {
    if (!["string", "number", "boolean", "undefined"].includes(typeof entry)) {
      return `${label}.${key} must be a string, number or boolean, got ${entry === null ? "null" : typeof entry}`;
    }
    if (key === "ticket") return `${label}.ticket is reserved for the connection ticket`;
  }
  return undefined;
}

/**
 * `{wsUrl}{path}?ticket=<ticket>&<params>`, all URI-encoded (docs/protocol.md §5). Without a
 * ticket it is the public, printable URL of the socket.
 */
export function buildSocketUrl(wsUrl: string, path: string, params: QueryParams = {}, ticket?: Ticket): string {
  const entries: Array<[string, string | number | boolean]> = [];
  if (ticket) entries.push(["ticket", ticket.reveal()]);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) entries.push([key, value]);
  const query = entries.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`).join("&");
  return `${trimTrailingSlash(wsUrl)}${path}${query ? `?${query}` : ""}`;
}

/** Replaces the value of any `ticket` query parameter, for text that may be printed. */
export function redactTicket(text: string): string {
  return text.replace(/([?&]ticket=)[^&#\s"']*/g, "$1[redacted]");
}

const REDACTED = "[redacted ticket]";

/**
 * A ticket that cannot leak by accident: `String()`, `JSON.stringify`, `util.inspect`
 * and the Stately inspector all see `[redacted ticket]`. Only `reveal()` returns it.
 */
export class Ticket {
  readonly #value: string;
  /** Epoch ms after which the server no longer accepts the ticket, if it said. */
  readonly expiresAt: number | undefined;
  constructor(value: string, expiresAt?: number) {
    this.#value = value;
    this.expiresAt = expiresAt;
  }
  /** The ticket itself, for the socket URL only. */
  reveal(): string {
    return this.#value;
  }
  /** `[redacted ticket]`. */
  toString(): string {
    return REDACTED;
  }
  /** `[redacted ticket]`. */
  toJSON(): string {
    return REDACTED;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return REDACTED;
  }
}
