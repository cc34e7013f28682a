/**
 * Network faults over real TCP (docs/protocol.md §3, §5): drops, half-open stalls only the
 * heartbeat can see, a server restart, running out of attempts, and the outgoing
 * queue across a reconnect.
 */
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ReconnectFailedError } from "../../src/index";
import { errorsOf, framesOn, record, startRig, stateOf, stopRigs, text, trackedWebSocket } from "../support/rig";
import { nextMessage, sleep, until } from "../support/wait";
import { PING_FRAME, PONG_FRAME } from "../../machines/protocol";

const PATH = "/ws/chat/a";

afterEach(stopRigs);

describe("a dropped connection", () => {
  it("reconnects after a backoff delay with a fresh ticket", async () => {
    const { server, client } = await startRig({ client: { reconnectDelay: 100, maxReconnectDelay: 100 } });
    const socket = await client.websocket.connectToChat("a");
    const recording = record(socket);
    const droppedAt = Date.now();
    server.dropAll();
    await until(() => server.connections.length === 2 && socket.isOpen);

    const [first, second] = server.connections;
    expect(first!.closeCode).toBe(1006); // no close frame: a network drop
    const waited = server.ticketRequests[1]!.at - droppedAt;
    expect(waited).toBeGreaterThanOrEqual(45); // backoff for attempt 1: [50, 100] ms
    expect(waited).toBeLessThan(1000); // generous: timers run late on a busy machine
    expect(second!.ticket).not.toBe(first!.ticket);
    expect(second!.ticketStatus).toBe("valid");
    expect(recording.states).toEqual(["reconnecting", "open"]);
    expect(recording.attempts).toEqual([1]);

    socket.send("after the drop");
    expect(text(await nextMessage(socket))).toBe("after the drop");
  });

  it("backs off longer on every failed attempt while the server stays away", async () => {
    const { server, client } = await startRig({ client: { reconnectDelay: 40, maxReconnectDelay: 1000 } });
    const socket = await client.websocket.connectToChat("a");
    const attemptTimes: number[] = [];
    socket.onReconnecting.subscribe(() => attemptTimes.push(Date.now()));
    const restarted = server.restart({ downtime: 700 });
    await restarted;
    await stateOf(socket, "open");
    // Ceilings 40, 80, 160, 320 ms: each gap is at least half its ceiling.
    const gaps = attemptTimes.slice(1).map((at, i) => at - attemptTimes[i]!);
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    gaps.slice(0, 3).forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual((40 * 2 ** (i + 1)) / 2 - 5));
  });
});

describe("the heartbeat", () => {
  it("detects a stalled (half-open) connection, closes it with 4000 and reopens", async () => {
    const { server, client } = await startRig({ client: { heartbeatInterval: 200, heartbeatTimeout: 200 } });
    const socket = await client.websocket.connectToChat("a");
    const recording = record(socket);
    const stalledAt = Date.now();
    server.stall();
    await stateOf(socket, "reconnecting", 2000);
    const detectedAfter = Date.now() - stalledAt;
    // The server neither closed nor answered: only the heartbeat could tell.
    expect(server.connections[0]!.closeCode).toBeUndefined();
    // Within one interval and one timeout (plus slack for a busy machine): the heartbeat, not TCP.
    expect(detectedAfter).toBeLessThanOrEqual(200 + 200 + 600);

    server.resume();
    await until(() => server.connections.length === 2 && socket.isOpen);
    // Once the server reads again, it finds the client's close frame.
    const stalled = await until(() => server.connections[0]!.closeCode !== undefined && server.connections[0]!);
    expect(stalled).toMatchObject({ closeCode: 4000, closeReason: "heartbeat timeout" });
    expect(server.connections[1]!.ticketStatus).toBe("valid");
    expect(server.connections[1]!.ticket).not.toBe(stalled.ticket);
    expect(recording.states).toEqual(["reconnecting", "open"]);
  });

  it("ends the TCP connection of a link it declared dead at once, not after ws's 30 s close wait", async () => {
    const tracked = trackedWebSocket();
    const { server, client } = await startRig({ client: { WebSocket: tracked.WebSocket, heartbeatInterval: 150, heartbeatTimeout: 150 } });
    const socket = await client.websocket.connectToChat("a");
    server.stall();
    await stateOf(socket, "reconnecting", 2000);
    await until(() => tracked.instances[0]!.readyState === WebSocket.CLOSED, 1000, "the dead link's ws instance to close");
    server.resume();
    await until(() => socket.isOpen);
    const stalled = await until(() => server.connections[0]!.closeCode !== undefined && server.connections[0]!);
    expect(stalled).toMatchObject({ closeCode: 4000, closeReason: "heartbeat timeout" });
  });

  it("drops a connection whose server never pongs, with 4000", async () => {
    const { server, client } = await startRig({ client: { heartbeatInterval: 150, heartbeatTimeout: 150 } });
    const socket = await client.websocket.connectToChat("a");
    const recording = record(socket);
    server.setAutoPong(false);
    const first = await until(() => server.connections[0]!.closeCode !== undefined && server.connections[0]!, 2000);
    server.setAutoPong(true);
    expect(first).toMatchObject({ closeCode: 4000, closeReason: "heartbeat timeout" });
    expect(framesOn(server, PATH)).toEqual([]);
    expect(server.frames.filter((frame) => frame.data === PING_FRAME).length).toBeGreaterThanOrEqual(1);
    await until(() => server.connections.length === 2 && socket.isOpen);
    expect(recording.states).toEqual(["reconnecting", "open"]);
  });

  it("keeps a quiet but healthy connection open, and never delivers pongs", async () => {
    const { server, client } = await startRig({ client: { heartbeatInterval: 250, heartbeatTimeout: 500 } });
    const socket = await client.websocket.connectToChat("a");
    const recording = record(socket);
    await sleep(1200);
    expect(recording.states).toEqual([]);
    expect(server.connections).toHaveLength(1);
    expect(server.frames.filter((frame) => frame.data === PING_FRAME).length).toBeGreaterThanOrEqual(2);
    expect(recording.messages).toEqual([]);
  });

  it("counts any inbound frame as liveness, even when the pong never comes", async () => {
    const { server, client } = await startRig({ client: { heartbeatInterval: 250, heartbeatTimeout: 500 } });
    const socket = await client.websocket.connectToChat("a");
    const recording = record(socket);
    server.setAutoPong(false);
    // A frame every 400 ms: each ping (after 250 ms of silence) is answered 150 ms later by data, never by a pong.
    const ticker = setInterval(() => server.broadcast(PATH, "tick"), 400);
    try {
      await sleep(1500);
    } finally {
      clearInterval(ticker);
    }
    expect(server.frames.filter((frame) => frame.data === PING_FRAME).length).toBeGreaterThanOrEqual(2);
    expect(recording.states).toEqual([]);
    expect(server.connections).toHaveLength(1);
    expect(recording.messages.length).toBeGreaterThanOrEqual(3);
  });

  it("delivers data frames but not a frame exactly equal to the pong", async () => {
    const { server, client } = await startRig({ client: { heartbeatInterval: 0 } });
    const socket = await client.websocket.connectToChat("a");
    const recording = record(socket);
    server.broadcast(PATH, PONG_FRAME);
    server.broadcast(PATH, '{"type":"pong","extra":1}');
    server.broadcast(PATH, "last");
    await until(() => recording.messages.length === 2);
    expect(recording.messages.map(text)).toEqual(['{"type":"pong","extra":1}', "last"]);
  });
});

describe("a server restart", () => {
  it("reopens once the server is back, with a ticket the new server issued", async () => {
    const { server, client } = await startRig();
    const socket = await client.websocket.connectToChat("a");
    const recording = record(socket);
    const restarting = server.restart({ downtime: 300 });
    await stateOf(socket, "reconnecting");
    await restarting;
    const backAt = Date.now();
    await until(() => server.connections.length === 2 && socket.isOpen, 3000);

    expect(server.connections[0]!.closeCode).toBe(1006);
    expect(server.connections[1]!.ticketStatus).toBe("valid");
    expect(server.ticketRequests.at(-1)!.at).toBeGreaterThanOrEqual(backAt - 5);
    // While the port was closed, ticket requests failed without an answer.
    expect(errorsOf(recording)).toContainEqual(expect.objectContaining({ name: "TicketError", status: 0 }));
    expect(recording.states[0]).toBe("reconnecting");
    expect(recording.states.at(-1)).toBe("open");
    expect(recording.attempts.length).toBeGreaterThanOrEqual(1);
  });

  it("gives up with ReconnectFailedError after maxReconnectAttempts when it never comes back", async () => {
    const { server, client } = await startRig({ client: { maxReconnectAttempts: 3 } });
    const socket = await client.websocket.connectToChat("a");
    const recording = record(socket);
    await server.close();
    await stateOf(socket, "closed");
    expect(recording.attempts).toEqual([1, 2, 3]);
    expect(errorsOf(recording).at(-1)).toMatchObject({ name: "ReconnectFailedError", attempts: 3 });
    expect(errorsOf(recording).at(-1)).toBeInstanceOf(ReconnectFailedError);
    expect(recording.states).toEqual(["reconnecting", "closed"]);
    expect(client.websocket.connectionCount).toBe(0);
  });
});

describe("the outgoing queue", () => {
  it("flushes messages queued while reconnecting, in order, before later sends", async () => {
    const { server, client } = await startRig();
    const socket = await client.websocket.connectToChat("a");
    const received: string[] = [];
    socket.onMessage.subscribe((event) => received.push(text(event.data)));
    server.dropAll();
    await stateOf(socket, "reconnecting");
    for (const message of ["one", "two", "three"]) socket.send(message);
    expect(socket.queuedMessages).toBe(3);
    await stateOf(socket, "open");
    socket.send("four");
    await until(() => received.length === 4);

    expect(received).toEqual(["one", "two", "three", "four"]);
    expect(socket.queuedMessages).toBe(0);
    const second = server.connections[1]!;
    const onSecond = server.frames.filter((frame) => frame.connectionId === second.id && frame.data !== PING_FRAME);
    expect(onSecond.map((frame) => frame.data)).toEqual(["one", "two", "three", "four"]);
  });

  it("flushes messages sent before the first connection opened", async () => {
    const { client } = await startRig();
    const socket = client.websocket.open(PATH);
    const received: string[] = [];
    socket.onMessage.subscribe((event) => received.push(text(event.data)));
    socket.send("early 1");
    socket.send("early 2");
    expect(socket.state).toBe("connecting");
    await socket.ready;
    socket.send("late");
    await until(() => received.length === 3);
    expect(received).toEqual(["early 1", "early 2", "late"]);
  });

  it("throws QueueFullError beyond maxQueuedMessages, and reports unsent messages at close", async () => {
    const { server, client } = await startRig({ client: { maxQueuedMessages: 2 } });
    server.rejectTickets(503, 10); // keeps the socket reconnecting
    const socket = client.websocket.open(PATH);
    const recording = record(socket);
    socket.send("a");
    socket.send("b");
    expect(() => socket.send("c")).toThrow(expect.objectContaining({ name: "QueueFullError", limit: 2 }));
    socket.close();
    await stateOf(socket, "closed");
    expect(errorsOf(recording)).toContainEqual(expect.objectContaining({ name: "SocketClosedError" }));
    expect(server.connections).toHaveLength(0);
  });
});
