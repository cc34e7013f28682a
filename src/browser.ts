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
