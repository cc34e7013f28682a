/**
 * An application's own model-based test: the connection badge of examples/ on every
 * path of the connection model, through the public `sockstate` entry point (the built
 * package) and the project's model kit, asserting only what the user sees.
 */
import { createClient, type WebSocketState } from "sockstate";
import { createConnectionModel, createModelDriver, createModelNetwork } from "../model/kit/model";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type BadgeElement, mountConnectionBadge } from "../../examples/connection-badge/badge";

/** What the user must see in each state. */
const SHOWN: Record<WebSocketState, [text: string, className: string]> = {
  connecting: ["Connecting…", "badge badge--pending"],
  open: ["Live", "badge badge--ok"],
  reconnecting: ["Reconnecting…", "badge badge--warning"],
  closing: ["Disconnecting…", "badge badge--pending"],
  closed: ["Offline", "badge badge--off"],
};

// The app unmounts its badge before it destroys a socket (destroy() removes every
// listener), so destroy() and closeAll() are not the badge's paths; close() is.
const model = createConnectionModel({ stimuli: (stimulus) => stimulus.type !== "user.close" || stimulus.via === "close" });

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("the connection badge shows the socket's state on every path", () => {
  for (const path of model.paths()) {
    it(path.description, async () => {
      const network = createModelNetwork();
      const client = createClient({ apiUrl: network.apiUrl, fetch: network.fetch, WebSocket: network.WebSocket });
      const driver = createModelDriver({ network, timers: vi, model });
      try {
        const socket = driver.open(client.websocket, "/ws/chat/general");
        const badge: BadgeElement = { textContent: "", className: "" };
        mountConnectionBadge(socket, badge);
        expect([badge.textContent, badge.className]).toEqual(SHOWN.connecting);
        for (const step of path.steps) {
          await driver.perform(step);
          expect([badge.textContent, badge.className], path.description).toEqual(SHOWN[step.publicState]);
        }
      } finally {
        client.websocket.closeAll();
        driver.dispose();
      }
    });
  }
});
