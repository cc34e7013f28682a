/**
 * Pure helpers of the reference server: validation of controls, path and header
 * parsing, frame conversion, and the ticket store.
 */
import { randomBytes } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import type { RawData } from "ws";
import type { IssuedTicket, TicketStatus } from "./reference-server.types";

/** Re-exported for bench/server.ts until it imports machines/protocol.ts itself. */
export { PING_FRAME, PONG_FRAME, TICKET_REJECTED_CODE } from "../../machines/protocol";
/** Longest close reason a close frame can carry, in UTF-8 bytes. */
const MAX_CLOSE_REASON_BYTES = 123;

/** `true` for close codes a WebSocket endpoint may put in a close frame (RFC 6455 §7.4, as `ws` checks). */
export function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

/** Throws a `RangeError` naming `label` when `code`/`reason` cannot be sent in a close frame. */
export function assertCloseFrame(label: string, code: number, reason = ""): void {
  if (!isSendableCloseCode(code)) {
    throw new RangeError(`${label}: ${code} is not a close code a server can send`);
  }
  if (Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) {
    throw new RangeError(`${label}: the close reason exceeds ${MAX_CLOSE_REASON_BYTES} bytes`);
  }
}

/** Throws a `RangeError` naming `label` unless `value` is an integer ≥ `min`. */
export function assertInteger(label: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${label} must be an integer ≥ ${min}, got ${String(value)}`);
  }
}

/** Throws a `RangeError` naming `label` unless `value` is a finite number ≥ 0. */
export function assertDuration(label: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${label} must be a finite number of milliseconds ≥ 0, got ${String(value)}`);
  }
}

/** `true` for `127.0.0.0/8` and `::1`: the only addresses a test server may listen on. */
export function isLoopbackAddress(host: string): boolean {
  if (isIPv4(host)) return host.startsWith("127.");
  return isIPv6(host) && (host === "::1" || host === "0:0:0:0:0:0:0:1");
}

/** `host:port` for a URL, with brackets around an IPv6 address. */
export function formatAuthority(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Path and query of a request target (`req.url`), normalised the way a WHATWG URL
 * would (percent-encoding, dot segments), so a ticket path and an upgrade path compare
 * equal whenever a client would consider them the same.
 */
export function parseTarget(target: string): { path: string; query: Record<string, string> } {
  // Concatenated rather than resolved, so `//a/b` stays a path and is not read as a host.
  const url = new URL(target.startsWith("/") ? `http://127.0.0.1${target}` : target, "http://127.0.0.1");
  return { path: url.pathname, query: Object.fromEntries(url.searchParams) };
}

/** The normalised form of a path, as {@link parseTarget} yields it. */
export function normalizePath(path: string): string {
  return parseTarget(path).path;
}

/** The token of an `Authorization: Bearer <token>` header, `undefined` otherwise. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S.*)$/i.exec(header.trim());
  return match?.[1];
}

/** The payload of a received frame: a `string` for text, a `Buffer` for binary. */
export function frameData(data: RawData, isBinary: boolean): string | Buffer {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  return isBinary ? bytes : bytes.toString("utf8");
}

/** Body of `POST /ws/ticket` after parsing: the requested path, or why it is unusable. */
export type TicketBody = { ok: true; path: string | undefined } | { ok: false; error: string };

/** Parses a ticket request body: empty, `{}`, or `{"path": "/…"}`. */
export function parseTicketBody(raw: string): TicketBody {
  if (raw.trim() === "") return { ok: true, path: undefined };
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return { ok: false, error: "body is not JSON" };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, error: "body must be a JSON object" };
  }
  const path: unknown = (body as { path?: unknown }).path;
  if (path === undefined) return { ok: true, path: undefined };
  if (typeof path !== "string" || !path.startsWith("/")) {
    return { ok: false, error: 'path must be a string starting with "/"' };
  }
  return { ok: true, path };
}

interface TicketEntry {
  path: string | undefined;
  expiresAt: number;
  used: boolean;
}

/** How long a spent or expired ticket is remembered, to report `used`/`expired` rather than `unknown`. */
const FORGET_AFTER = 60_000;

/** Single-use, expiring tickets. `now` is injectable for unit tests. */
export class TicketStore {
  readonly #entries = new Map<string, TicketEntry>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Issues a ticket valid for `ttl` ms, bound to `path` when given. */
  issue(path: string | undefined, ttl: number): IssuedTicket {
    const now = this.#now();
    this.#forgetOld(now);
    const ticket = randomBytes(24).toString("base64url");
    const expiresAt = now + ttl;
    this.#entries.set(ticket, { path: path === undefined ? undefined : normalizePath(path), expiresAt, used: false });
    return { ticket, expiresAt };
  }

  /** Checks `ticket` for an upgrade on `path` (normalised) and spends it when valid. */
  redeem(ticket: string | undefined, path: string): TicketStatus {
    if (ticket === undefined || ticket === "") return "missing";
    const entry = this.#entries.get(ticket);
    if (entry === undefined) return "unknown";
    if (entry.used) return "used";
    if (this.#now() > entry.expiresAt) return "expired";
    if (entry.path !== undefined && entry.path !== path) return "wrong-path";
    entry.used = true;
    return "valid";
  }

  /** Forgets every ticket, as a restarted server would. */
  clear(): void {
    this.#entries.clear();
  }

  #forgetOld(now: number): void {
    for (const [ticket, entry] of this.#entries) {
      if (entry.expiresAt + FORGET_AFTER < now) this.#entries.delete(ticket);
    }
  }
}

/** A queue of values each handed out `count` times in a row: the "next N" of a fault control. */
export class CountedQueue<T> {
  #items: Array<{ value: T; remaining: number }> = [];

  /** Queues `value` to be taken `count` times, after everything queued before. */
  push(value: T, count: number): void {
    if (count > 0) this.#items.push({ value, remaining: count });
  }

  /** The next value, or `undefined` when nothing is queued. */
  take(): T | undefined {
    const head = this.#items[0];
    if (head === undefined) return undefined;
    head.remaining -= 1;
    if (head.remaining === 0) this.#items.shift();
    return head.value;
  }

  /** Drops everything queued. */
  clear(): void {
    this.#items = [];
  }
}
