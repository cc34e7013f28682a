/**
 * What the bench client and the bench server say to each other, besides the wire
 * protocol of docs/protocol.md §5, which both sides read from `machines/protocol.ts`
 * (`TICKET_PATH`, `PING_FRAME` → `PONG_FRAME`, the close codes).
 *
 * Data frames are exactly {@link FRAME_BYTES} bytes of JSON that start with their
 * sequence number, so either side can check the order without parsing JSON:
 * `{"seq":42,"type":"data","payload":"xxxx…"}`. Control frames start with `{"type":`.
 */

/** Size of one data frame, inbound and outbound. */
export const FRAME_BYTES = 100;

/** Paths under this prefix need a ticket (sockstate); paths under {@link OPEN_PREFIX} do not (raw ws, peers). */
export const TICKETED_PREFIX = "/ticketed/";
export const OPEN_PREFIX = "/open/";
/**
 * Paths under this prefix take any non-empty `ticket` without redeeming it: for a client
 * whose injected `fetch` answers at once, so that a reconnect times the client, not the
 * ticket endpoint.
 */
export const LOCAL_TICKET_PREFIX = "/local-ticket/";
/** The ticket such an injected `fetch` answers with. */
export const LOCAL_TICKET = "local";

/**
 * The server greets each new connection with this one frame (a confirmed open in
 * docs/protocol.md §4 comes at the first data frame), unless the path, below its prefix,
 * starts with {@link SILENT_SEGMENT}: then it says nothing until asked.
 */
export const GREETING_FRAME = '{"type":"hello"}';
export const SILENT_SEGMENT = "silent/";

/** Client → server control frames. */
export type ClientControl =
  /** Write `count` data frames to this connection, as fast as the socket takes them. */
  | { type: "flood"; count: number }
  /** The next `count` data frames are a measured burst; answer `sink-done` after the last. */
  | { type: "sink"; count: number }
  /** Answer `stalling`, then neither read nor write this connection again, without closing it. */
  | { type: "stall" }
  /** Destroy this connection's TCP socket without a close frame (the client sees 1006). */
  | { type: "drop" };

/** Server → client control frames. */
export type ServerControl =
  | { type: "sink-done"; count: number; outOfOrder: number }
  | { type: "stalling" };

/** Parent → server process requests over IPC, answered with `{ id, result }`. */
export type ServerRequest =
  /** Number of open WebSocket connections. */
  | { id: number; cmd: "connections" }
  /** Destroy every stalled connection (end of the half-open scenario). */
  | { id: number; cmd: "destroy-stalled" }
  /** `process.cpuUsage()` of the server, to tell whether it was the bottleneck. */
  | { id: number; cmd: "cpu" };

export type ServerReply = { id: number; result: unknown };

/** First message of the server process: where it listens. */
export type ServerReady = { type: "ready"; port: number };

const SEQ_PREFIX = '{"seq":';
const SEQ_INFIX = ',"type":"data","payload":"';
const SEQ_SUFFIX = '"}';

/** Padding plus suffix by the number of digits of the sequence number. */
const tails: string[] = [];

/** The data frame with sequence number `seq`, padded to {@link FRAME_BYTES} bytes. */
export function dataFrame(seq: number): string {
  const digits = String(seq);
  let tail = tails[digits.length];
  if (tail === undefined) {
    const padding = FRAME_BYTES - SEQ_PREFIX.length - digits.length - SEQ_INFIX.length - SEQ_SUFFIX.length;
    tail = SEQ_INFIX + "x".repeat(padding) + SEQ_SUFFIX;
    tails[digits.length] = tail;
  }
  return SEQ_PREFIX + digits + tail;
}

/** The frame a client sends to ask for a control (see {@link ClientControl}). */
export function controlFrame(control: ClientControl): string {
  return JSON.stringify(control);
}

/** The exact text of the `stalling` control frame. */
export const STALLING_FRAME = JSON.stringify({ type: "stalling" } satisfies ServerControl);

/**
 * The sequence number at the start of a data frame, `-1` when `frame` is not one.
 * Reads digits by char code: a check per frame that costs next to nothing.
 */
export function seqOf(frame: string): number {
  if (!frame.startsWith(SEQ_PREFIX)) return -1;
  let seq = -1;
  for (let i = SEQ_PREFIX.length; i < frame.length; i++) {
    const digit = frame.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) break;
    seq = (seq === -1 ? 0 : seq * 10) + digit;
  }
  return seq;
}

/** {@link seqOf} on the raw bytes of a received frame. */
export function seqOfBytes(frame: Uint8Array): number {
  for (let i = 0; i < SEQ_PREFIX.length; i++) {
    if (frame[i] !== SEQ_PREFIX.charCodeAt(i)) return -1;
  }
  let seq = -1;
  for (let i = SEQ_PREFIX.length; i < frame.length; i++) {
    const digit = frame[i]! - 48;
    if (digit < 0 || digit > 9) break;
    seq = (seq === -1 ? 0 : seq * 10) + digit;
  }
  return seq;
}

/** `true` for a control frame (`{"type":…`), which a data-frame handler skips. */
export function isControl(frame: string): boolean {
  return frame.startsWith('{"type":');
}
