/**
 * The wire protocol of docs/protocol.md §5, in one module: the ticket endpoint, the
 * heartbeat frames and what each close code means. The machine, the reference server,
 * the demo and the bench all read it from here.
 */

/** Path of the ticket endpoint, below `apiUrl`. */
export const TICKET_PATH = "/ws/ticket";
/** The client's heartbeat ping, a text frame. */
export const PING_FRAME = '{"type":"ping"}';
/** The server's answer to a ping; never delivered to `onMessage`. */
export const PONG_FRAME = '{"type":"pong"}';

/** Close code the client uses when the heartbeat declares a connection dead. */
export const HEARTBEAT_TIMEOUT_CODE = 4000;
/** The server rejected the ticket (expired, used, unknown): refresh it and reconnect at once. */
export const TICKET_REJECTED_CODE = 4001;
/** Server close codes after which the client never reconnects: forbidden, not found, policy violation. */
export const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set([4003, 4004, 1008]);

/** What the client does after the server closed (or the network dropped) a socket. */
export type CloseDisposition = "refresh-ticket" | "terminal" | "retry";

/** The one decision on close codes: 4001 refreshes, 4003/4004/1008 end, anything else retries with backoff. */
export function classifyClose(code: number): CloseDisposition {
  if (code === TICKET_REJECTED_CODE) return "refresh-ticket";
  if (TERMINAL_CLOSE_CODES.has(code)) return "terminal";
  return "retry";
}

/**
 * Ticket endpoint statuses after which the client never retries: every client error
 * (`4xx`, a wrong `apiUrl` answering `404` included) but `408` (request timeout) and `429`
 * (too many requests), which say "try again later". A client error does not fix itself.
 */
export function isTerminalTicketStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** A base URL (`apiUrl`, `wsUrl`) without its trailing slashes, so that a path can follow it. */
export function trimTrailingSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/** `POST` target for tickets: `{apiUrl}/ws/ticket`. */
export function ticketEndpoint(apiUrl: string): string {
  return `${trimTrailingSlash(apiUrl)}${TICKET_PATH}`;
}
