/**
 * Sockets shared by key between components, counted by users (docs/protocol.md §9).
 *
 * The manager keeps one live socket per key by *replacing* the older one: right for code
 * that reconnects on purpose, wrong for two components showing the same chat. So the
 * bindings keep their own count per client: the first user opens the socket, later users
 * of the key get the same one, and the last one to leave closes it one macrotask later, so
 * that StrictMode's mount → unmount → mount and an effect re-run keep the same socket.
 */
import type { ManagedWebSocket } from "../managed-socket";
import type { WebSocketManager } from "../manager";
import type { SocketOptions } from "../options";

type SocketError = Event | Error;

/** The last error a socket reported, cleared when it is open again; an external store for React. */
export class ErrorStore {
  #error: SocketError | undefined = undefined;
  readonly #listeners = new Set<() => void>();

  constructor(socket: ManagedWebSocket) {
    socket.onError.subscribe((error) => this.#set(error));
    socket.onStateChange.subscribe((state) => {
      if (state === "open") this.#set(undefined);
    });
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  readonly getSnapshot = (): SocketError | undefined => this.#error;

  #set(error: SocketError | undefined): void {
    if (this.#error === error) return;
    this.#error = error;
    for (const listener of [...this.#listeners]) listener();
  }
}

interface Entry {
  readonly socket: ManagedWebSocket;
  readonly errors: ErrorStore;
  users: number;
  closeTimer: ReturnType<typeof setTimeout> | undefined;
}

/** One use of a shared socket; `release()` is idempotent. */
export interface Lease {
  readonly socket: ManagedWebSocket;
  readonly errors: ErrorStore;
  release(): void;
}

/** Per manager, the shared sockets by key. Weak: a client that is dropped takes its table along. */
const registries = new WeakMap<WebSocketManager, Map<string, Entry>>();

function registryOf(manager: WebSocketManager): Map<string, Entry> {
  let registry = registries.get(manager);
  if (registry === undefined) {
    registry = new Map();
    registries.set(manager, registry);
  }
  return registry;
}

/**
 * The socket of `key`: the live one another user opened (with its options), else a new
 * one opened now with `options`. A socket that has closed on its own is not reused once
 * its last user has left.
 */
export function acquireSocket(manager: WebSocketManager, path: string, options: SocketOptions, key: string): Lease {
  const registry = registryOf(manager);
  let entry = registry.get(key);
  // A socket that closed on its own (closeAll(), a terminal error) is replaced only once
  // nobody holds it: components sharing a key keep sharing one socket, closed or not.
  if (entry === undefined || (entry.socket.state === "closed" && entry.users === 0)) {
    const socket = manager.open(path, options, key);
    entry = { socket, errors: new ErrorStore(socket), users: 0, closeTimer: undefined };
    registry.set(key, entry);
  }
  const held = entry;
  held.users += 1;
  clearTimeout(held.closeTimer);
  held.closeTimer = undefined;

  let released = false;
  return {
    socket: held.socket,
    errors: held.errors,
    release() {
      if (released) return;
      released = true;
      held.users -= 1;
      if (held.users > 0) return;
      // Not now: a user that comes back before the next macrotask (StrictMode, a re-run
      // effect) keeps the same socket, ticket and connection.
      held.closeTimer = setTimeout(() => {
        if (held.users > 0) return;
        if (registry.get(key) === held) registry.delete(key);
        held.socket.destroy();
      }, 0);
    },
  };
}
