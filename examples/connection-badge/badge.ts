/**
 * A connection badge, as an application would write it: it shows the state of one
 * sockstate socket ("Connecting…", "Live", "Reconnecting…", "Disconnecting…", "Offline")
 * and knows nothing about the machine behind it.
 */
import type { ManagedWebSocket, WebSocketState } from "sockstate";

/** The part of an element the badge writes to (an `HTMLElement` fits). */
export interface BadgeElement {
  textContent: string | null;
  className: string;
}

const VIEWS: Record<WebSocketState, { text: string; tone: "pending" | "ok" | "warning" | "off" }> = {
  connecting: { text: "Connecting…", tone: "pending" },
  open: { text: "Live", tone: "ok" },
  reconnecting: { text: "Reconnecting…", tone: "warning" },
  closing: { text: "Disconnecting…", tone: "pending" },
  closed: { text: "Offline", tone: "off" },
};

/** Renders the badge for `socket` into `element` and keeps it current. Returns the unmount function. */
export function mountConnectionBadge(socket: ManagedWebSocket, element: BadgeElement): () => void {
  const render = (state: WebSocketState) => {
    const view = VIEWS[state];
    element.textContent = view.text;
    element.className = `badge badge--${view.tone}`;
  };
  render(socket.state);
  return socket.onStateChange.subscribe(render);
}
