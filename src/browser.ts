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

/** Adds the `visibilitychange` and `online` listeners where they exist; returns their removal. */
export function watchEnvironment(wake: () => void): () => void {
  const doc = (globalThis as { document?: { visibilityState?: string } }).document;
  const documentTarget = asTarget(doc);
  const windowTarget = asTarget(globalThis);
  if (!documentTarget && !windowTarget) return noop;

  const onVisibilityChange = () => {
    if (doc?.visibilityState === "visible") wake();
  };
  const onOnline = () => wake();
  documentTarget?.addEventListener("visibilitychange", onVisibilityChange);
  windowTarget?.addEventListener("online", onOnline);
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    documentTarget?.removeEventListener("visibilitychange", onVisibilityChange);
    windowTarget?.removeEventListener("online", onOnline);
  };
}

interface SharedWatch {
  readonly wakers: Set<() => void>;
  readonly remove: () => void;
}

/** One page watch per owner (a client's runtime), shared by its sockets. */
const sharedWatches = new WeakMap<object, SharedWatch>();

/**
 * `watchEnvironment` shared by every socket of one owner (a client): one `visibilitychange`
 * and one `online` listener however many sockets it has, added with its first socket and
 * removed when its last one leaves. Returns this socket's leave, idempotent.
 */
export function joinEnvironmentWatch(owner: object, wake: () => void): () => void {
  let watch = sharedWatches.get(owner);
  if (!watch) {
    const wakers = new Set<() => void>();
    const remove = watchEnvironment(() => {
      for (const waker of [...wakers]) waker();
    });
    if (remove === noop) return noop;
    watch = { wakers, remove };
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
