/**
 * `client.websocket` over real sockets (docs/protocol.md §2, §4): paths and keys, one live socket
 * per key, params on the URL with the ticket kept out of sight, close and closeAll.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SocketClosedError } from "../../src/index";
import WebSocket from "ws";
import { record, startRig, stateOf, stopRigs, text, trackedWebSocket } from "../support/rig";
import { nextMessage, sleep, until } from "../support/wait";

afterEach(stopRigs);

describe("opening sockets", () => {
  it("opens a chat and a transcript socket side by side, each on its own path with its own ticket", async () => {
    const { server, client } = await startRig();
    const [chat, transcript] = await Promise.all([
      client.websocket.connectToChat("thread-1"),
      client.websocket.connectToTranscript("ws-1", "tr-1"),
    ]);
    expect([chat.key, transcript.key]).toEqual(["chat:thread-1", "transcript:ws-1/tr-1"]);
    expect(client.websocket.connectionCount).toBe(2);
    expect(server.connections.map((connection) => connection.path).sort()).toEqual([
      "/ws/chat/thread-1",
      "/ws/workspaces/ws-1/transcripts/tr-1",
    ]);
    expect(server.connections.every((connection) => connection.ticketStatus === "valid")).toBe(true);

    // Frames reach the socket of their path only.
    const transcriptMessage = nextMessage(transcript);
    expect(server.broadcast("/ws/workspaces/ws-1/transcripts/tr-1", '{"type":"segment","text":"hi"}')).toBe(1);
    expect(text(await transcriptMessage)).toBe('{"type":"segment","text":"hi"}');
    const echo = nextMessage(chat);
    chat.send("hello");
    expect(text(await echo)).toBe("hello");
  });

  it("opens any path with connect(), keyed by the path unless a key is given", async () => {
    const { server, client } = await startRig();
    const byPath = await client.websocket.connect("/notifications");
    const byKey = await client.websocket.connect("/notifications", {}, "notifications");
    expect([byPath.key, byKey.key]).toEqual(["/notifications", "notifications"]);
    expect(server.liveConnections.map((connection) => connection.path)).toEqual(["/notifications", "/notifications"]);
    await expect(client.websocket.connect("notifications")).rejects.toThrow(TypeError);
  });

  it("puts params on the URL and never shows the ticket in socket.url, errors or debug output", async () => {
    const { server, client } = await startRig();
    const debugLines: string[] = [];
    const socket = await client.websocket.connectToTranscript("w 1", "t/2", {
      params: { lang: "en", v: 2 },
      debug: (message, details) => debugLines.push(`${message} ${JSON.stringify(details)}`),
    });
    const recording = record(socket);
    const path = "/ws/workspaces/w%201/transcripts/t%2F2";
    const [connection] = server.connections;
    expect(connection!.path).toBe(path);
    expect(connection!.query).toEqual({ ticket: connection!.ticket, lang: "en", v: "2" });
    expect(server.ticketRequests[0]!.path).toBe(path);
    expect(socket.url).toBe(`${server.wsUrl}${path}?lang=en&v=2`);

    server.liveConnections[0]!.close(4003, "forbidden");
    await stateOf(socket, "closed");
    const ticket = connection!.ticket!;
    const printed = [socket.url, ...debugLines, ...recording.errors.map((error) => `${String(error)} ${JSON.stringify(error)}`)];
    expect(debugLines.length).toBeGreaterThan(0);
    for (const line of printed) expect(line).not.toContain(ticket);
  });
});

describe("one live socket per key", () => {
  it("closes and destroys the older socket when the same key connects again", async () => {
    const { server, client } = await startRig();
    const first = await client.websocket.connectToChat("a");
    const firstMessages = record(first).messages;
    const second = await client.websocket.connectToChat("a");

    expect(first.state).toBe("closed");
    expect(second.isOpen).toBe(true);
    expect(client.websocket.connectionCount).toBe(1);
    await until(() => server.connections[0]!.closeCode === 1000);
    server.broadcast("/ws/chat/a", "for the live one");
    expect(text(await nextMessage(second))).toBe("for the live one");
    await sleep(200); // the old socket never reconnects, and its listeners are gone
    expect(server.connections).toHaveLength(2);
    expect(firstMessages).toEqual([]);
  });
});

describe("closing", () => {
  it("a socket replaced from its own onError at a terminal close still tells its listeners closed", async () => {
    const { server, client } = await startRig();
    server.refuseConnections(4003, 1, "forbidden");
    const old = client.websocket.open("/r", {}, "room");
    const seen: string[] = [];
    old.onStateChange.subscribe((state) => seen.push(state));
    let replacement: ReturnType<typeof client.websocket.open> | undefined;
    old.onError.subscribe(() => {
      replacement ??= client.websocket.open("/r", {}, "room");
    });
    await until(() => replacement?.isOpen);
    expect(old.state).toBe("closed");
    expect(seen).toEqual(["closed"]);
    expect(client.websocket.connectionCount).toBe(1);
  });

  it("close() goes closing → closed with the code the server then sees", async () => {
    const { server, client } = await startRig();
    const socket = await client.websocket.connectToChat("a");
    const recording = record(socket);
    socket.close(4100, "bye");
    expect(socket.state).toBe("closing");
    await stateOf(socket, "closed");
    expect(recording.states).toEqual(["closing", "closed"]);
    await until(() => server.connections[0]!.closeCode !== undefined);
    expect(server.connections[0]).toMatchObject({ closeCode: 4100, closeReason: "bye" });
    await sleep(150);
    expect(server.connections).toHaveLength(1);
  });

  it("a close the server never answers ends at closeTimeout, and so does the TCP connection", async () => {
    const tracked = trackedWebSocket();
    const { server, client } = await startRig({ client: { WebSocket: tracked.WebSocket, connectTimeout: 300 } });
    const socket = await client.websocket.connectToChat("a");
    server.stall();
    const closedAt = Date.now();
    socket.close();
    await stateOf(socket, "closed", 2000);
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(250);
    // Not `ws`'s own 30 s wait for the close frame: the connection ends with the machine's wait.
    await until(() => tracked.instances[0]!.readyState === WebSocket.CLOSED, 1000, "the abandoned ws instance to close");
    expect(tracked.instances).toHaveLength(1);
  });

  it("closeAll() closes every socket: count 0 at once, 1000 at the server, no reconnect", async () => {
    const { server, client } = await startRig();
    const chat = await client.websocket.connectToChat("a");
    const transcript = await client.websocket.connectToTranscript("w", "t");
    client.websocket.closeAll();
    expect(client.websocket.connectionCount).toBe(0);
    await Promise.all([stateOf(chat, "closed"), stateOf(transcript, "closed")]);
    await until(() => server.connections.every((connection) => connection.closeCode === 1000));
    await sleep(200);
    expect(server.connections).toHaveLength(2);
    expect(server.ticketRequests).toHaveLength(2);
    expect(() => chat.send("late")).toThrow(SocketClosedError);
  });

  it("closeAll() rejects a connect that is still waiting for its ticket", async () => {
    const { server, client } = await startRig();
    server.setTicketLatency(300);
    const pending = client.websocket.connectToChat("a");
    await sleep(50);
    client.websocket.closeAll();
    await expect(pending).rejects.toBeInstanceOf(SocketClosedError);
    await sleep(400);
    expect(server.connections).toHaveLength(0);
  });

  it("closeAll() stops a socket that is waiting out a backoff delay", async () => {
    const { server, client } = await startRig({ client: { reconnectDelay: 300, maxReconnectDelay: 300 } });
    const socket = await client.websocket.connectToChat("a");
    server.dropAll();
    await stateOf(socket, "reconnecting");
    client.websocket.closeAll();
    await stateOf(socket, "closed");
    await sleep(400);
    expect(server.ticketRequests).toHaveLength(1);
  });
});
