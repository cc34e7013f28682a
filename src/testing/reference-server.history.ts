/**
 * The reference server's broadcast history (docs/protocol.md §6): the last `n` frames
 * broadcast on each path, numbered 1, 2, 3, … per path, and the replay a connection with
 * `since=<id>` receives before the live frames.
 */

/** What `broadcast()` sends: text and bytes as they are, anything else as JSON. */
export type OutgoingFrame = string | Uint8Array | ArrayBuffer;

/** One broadcast frame as kept: its number on its path and the frame as sent. */
export interface KeptFrame {
  readonly id: number;
  readonly frame: OutgoingFrame;
}

/** A path's numbering and its kept frames, oldest first. */
interface PathHistory {
  lastId: number;
  frames: KeptFrame[];
}

/**
 * The frame `broadcast(path, value)` sends. With `id`, a plain object is sent with that
 * number added as `"id"` (replacing an `id` of its own); strings, bytes and other JSON
 * values are sent unchanged. Throws a `TypeError` for a value JSON cannot represent.
 */
export function encodeBroadcast(value: unknown, id?: number): OutgoingFrame {
  if (typeof value === "string" || value instanceof Uint8Array || value instanceof ArrayBuffer) return value;
  const payload = id !== undefined && isPlainObject(value) ? { ...value, id } : value;
  let text: string | undefined;
  try {
    text = JSON.stringify(payload);
  } catch (error) {
    throw new TypeError(`broadcast: the value cannot be sent as JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (text === undefined) throw new TypeError(`broadcast: ${typeof value} cannot be sent as JSON`);
  return text;
}

/**
 * The `since` query parameter as a frame id: a non-negative integer, or `undefined` when
 * absent or malformed (such a connection gets no replay).
 */
export function parseSince(since: string | undefined): number | undefined {
  if (since === undefined || !/^\d{1,15}$/.test(since)) return undefined;
  return Number(since);
}

/** The last `limit` broadcast frames of each path; `limit` 0 keeps and numbers nothing. */
export class BroadcastHistory {
  readonly #limit: number;
  readonly #paths = new Map<string, PathHistory>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Whether frames are numbered and kept at all. */
  get enabled(): boolean {
    return this.#limit > 0;
  }

  /** Numbers `value` on `path`, keeps it (dropping the oldest beyond the limit) and returns it as sent. */
  keep(path: string, value: unknown): KeptFrame {
    let history = this.#paths.get(path);
    if (history === undefined) {
      history = { lastId: 0, frames: [] };
      this.#paths.set(path, history);
    }
    const id = history.lastId + 1;
    // Encode first: a value that cannot be sent must not use up a number.
    const kept: KeptFrame = { id, frame: encodeBroadcast(value, id) };
    history.lastId = id;
    history.frames.push(kept);
    if (history.frames.length > this.#limit) history.frames.shift();
    return kept;
  }

  /** The kept frames of `path` whose id is larger than `since`, oldest first. */
  after(path: string, since: number): readonly KeptFrame[] {
    const frames = this.#paths.get(path)?.frames ?? [];
    const first = frames.findIndex((kept) => kept.id > since);
    return first === -1 ? [] : frames.slice(first);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
