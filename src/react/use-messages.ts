/** The last `limit` `onData` values of a socket, every frame of a burst kept (docs/protocol.md §9). */
import { useMemo, useSyncExternalStore } from "react";
import type { ManagedWebSocket } from "../managed-socket";

/** Options of {@link useMessages}. */
export interface UseMessagesOptions {
  /**
   * How many of the latest values to keep.
   * @default 100
   */
  limit?: number;
}

const NONE: readonly never[] = Object.freeze([]);

/**
 * The values live outside React: a burst of frames between two renders is appended here
 * one by one, and a render reads an immutable copy made once per change. So batched
 * renders never skip a frame, and a render never sees a half-updated list.
 */
class MessageBuffer<T> {
  readonly #socket: ManagedWebSocket | undefined;
  readonly #limit: number;
  /** Grows to twice `limit` before it is trimmed, so each value is copied a bounded number of times. */
  readonly #values: T[] = [];
  #snapshot: readonly T[] = NONE;
  #stale = false;
  readonly #listeners = new Set<() => void>();
  #unsubscribe: (() => void) | undefined = undefined;

  constructor(socket: ManagedWebSocket | undefined, limit: number) {
    this.#socket = socket;
    this.#limit = limit;
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    if (this.#socket !== undefined && this.#unsubscribe === undefined) {
      this.#unsubscribe = this.#socket.onData.subscribe(this.#push as (value: unknown) => void);
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        this.#unsubscribe?.();
        this.#unsubscribe = undefined;
      }
    };
  };

  readonly getSnapshot = (): readonly T[] => {
    if (this.#stale) {
      this.#stale = false;
      this.#snapshot = Object.freeze(this.#values.slice(-this.#limit));
    }
    return this.#snapshot;
  };

  readonly #push = (value: T): void => {
    this.#values.push(value);
    if (this.#values.length >= 2 * this.#limit) this.#values.splice(0, this.#values.length - this.#limit);
    this.#stale = true;
    for (const listener of [...this.#listeners]) listener();
  };
}

/** The type of a socket's `onData` values: the schema's output, else `unknown`. */
export type SocketData<Socket> = [NonNullable<Socket>] extends [ManagedWebSocket<infer T>] ? T : unknown;

const serverSnapshot = (): readonly never[] => NONE;

/**
 * The last `limit` values `socket.onData` delivered since this component subscribed, oldest
 * first; a new array (frozen) after every value, the same array while none arrives. Empty
 * while `socket` is `undefined`; starts over when `socket` or `limit` changes.
 */
export function useMessages<Socket extends ManagedWebSocket | undefined>(
  socket: Socket,
  options: UseMessagesOptions = {},
): ReadonlyArray<SocketData<Socket>> {
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new TypeError(`sockstate/react: useMessages limit must be a positive integer, got ${String(limit)}`);
  }
  const buffer = useMemo(() => new MessageBuffer<SocketData<Socket>>(socket, limit), [socket, limit]);
  return useSyncExternalStore(buffer.subscribe, buffer.getSnapshot, serverSnapshot);
}
