/**
 * docs/protocol.md §8: when the page becomes visible again or the network comes back, wake the
 * connection (an open socket pings at once, a socket in backoff attempts at once).
 */

import { noop } from "../machines/connection.utils";

interface ListenerTarget {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

function asTarget(value: unknown): ListenerTarget | undefined {
  const target = value as Partial<ListenerTarget> | undefined;
  return target && typeof target.addEventListener === "function" && typeof target.removeEventListener === "function"
    ? (target as ListenerTarget)
    : undefined;
}

/** The sockets of one owner to wake, and the removal of the owner's page listeners. */
interface SharedWatch {
  readonly wakers: Set<() => void>;
  readonly remove: () => void;
}

/** One page watch per owner (a client's runtime), shared by its sockets. */
const sharedWatches = new WeakMap<object, SharedWatch>();

/**
 * One `visibilitychange` and one `online` listener (where they exist) per owner (a client),
 * however many sockets it has: added with its first socket and removed when its last one
 * leaves. Returns this socket's leave, idempotent.
 */
export function joinEnvironmentWatch(owner: object, wake: () => void): () => void {
  let watch = sharedWatches.get(owner);
  if (!watch) {
    const doc = (globalThis as { document?: { visibilityState?: string } }).document;
    const documentTarget = asTarget(doc);
    const windowTarget = asTarget(globalThis);
    if (!documentTarget && !windowTarget) return noop;
    const wakers = new Set<() => void>();
    const wakeAll = () => {
      for (const waker of [...wakers]) waker();
    };
    const onVisibilityChange = () => {
      if (doc?.visibilityState === "visible") wakeAll();
    };
    documentTarget?.addEventListener("visibilitychange", onVisibilityChange);
    windowTarget?.addEventListener("online", wakeAll);
    watch = {
      wakers,
      remove: () => {
        documentTarget?.removeEventListener("visibilitychange", onVisibilityChange);
        windowTarget?.removeEventListener("online", wakeAll);
      },
    };
    sharedWatches.set(owner, watch);
  }
  const joined = watch;
  // A socket's own function, so the same socket joining twice still leaves once per join.
  const waker = () => wake();
  joined.wakers.add(waker);
  return () => {
    if (!joined.wakers.delete(waker) || joined.wakers.size > 0) return;
    joined.remove();
    if (sharedWatches.get(owner) === joined) sharedWatches.delete(owner);
  };
}
