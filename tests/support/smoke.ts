/**
 * The smoke subset, run once per WebSocket implementation: open, echo, drop and
 * reconnect, stall and heartbeat, close. `webSocket: "global"` passes no `WebSocket`
 * to `createClient`, so the client uses `globalThis.WebSocket`.
 */
import { afterEach, describe, expect, it } from "vitest";
import { record, startRig, stateOf, stopRigs, text, type RigOptions } from "./rig";
import { nextMessage, until } from "./wait";

export function smokeSuite(webSocket: NonNullable<RigOptions["webSocket"]>): void {
  const start = () => startRig({ webSocket });

  describe(`smoke (${webSocket === "ws" ? "ws" : "global WebSocket"})`, () => {
    afterEach(stopRigs);

    it("opens with a ticket and echoes a message", async () => {
      const { server, client } = await start();
      const socket = await client.websocket.connectToChat("smoke");
      expect(socket.state).toBe("open");
      expect(server.connections[0]).toMatchObject({ path: "/ws/chat/smoke", ticketStatus: "valid" });
      const reply = nextMessage(socket);
      socket.send('{"type":"message","text":"hello"}');
      expect(text(await reply)).toBe('{"type":"message","text":"hello"}');
    });

    it("reconnects after a drop with a fresh ticket and keeps echoing", async () => {
      const { server, client } = await start();
      const socket = await client.websocket.connectToChat("smoke");
      const recording = record(socket);
      server.dropAll();
      await until(() => server.connections.length === 2 && socket.isOpen);
      expect(recording.states).toEqual(["reconnecting", "open"]);
      expect(recording.attempts).toEqual([1]);
      expect(server.connections[1]!.ticket).not.toBe(server.connections[0]!.ticket);
      const reply = nextMessage(socket);
      socket.send("again");
      expect(text(await reply)).toBe("again");
    });

    it("notices a stalled connection through the heartbeat and reopens", async () => {
      const { server, client } = await start();
      const socket = await client.websocket.connectToChat("smoke");
      server.stall();
      await stateOf(socket, "reconnecting", 2000);
      server.resume();
      await until(() => server.connections.length === 2 && socket.isOpen);
      await until(() => server.connections[0]!.closeCode === 4000);
    });

    it("closes: the server sees 1000 and the manager is empty", async () => {
      const { server, client } = await start();
      const socket = await client.websocket.connectToChat("smoke");
      client.websocket.closeAll();
      expect(client.websocket.connectionCount).toBe(0);
      await stateOf(socket, "closed");
      await until(() => server.connections[0]!.closeCode === 1000);
    });
  });
}
