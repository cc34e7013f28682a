/**
 * Close codes from the server over real TCP (docs/protocol.md §5): 4001 refreshes the ticket at
 * once, 4003/4004/1008 are terminal, anything else reconnects with backoff.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ConnectionRejectedError, ReconnectFailedError } from "../../src/index";
import { errorsOf, record, startRig, stateOf, stopRigs } from "../support/rig";
import { sleep, until } from "../support/wait";

const PATH = "/ws/chat/a";
/** A backoff this long (≥ 2.5 s) would be impossible to miss. */
const SLOW_BACKOFF = { reconnectDelay: 5000, maxReconnectDelay: 5000 };

afterEach(stopRigs);

describe("4001: the ticket was rejected", () => {
  it("refreshes the ticket at once when a first upgrade is refused, and opens", async () => {
    const { server, client } = await startRig({ client: SLOW_BACKOFF });
    server.refuseConnections(4001, 1, "ticket expired");
    const started = Date.now();
    const socket = client.websocket.open(PATH);
    const recording = record(socket);
    await socket.ready;

    expect(Date.now() - started).toBeLessThan(1000); // no backoff delay
    expect(server.connections.map((connection) => connection.refusedWith)).toEqual([4001, undefined]);
    const [refused, accepted] = server.connections;
    expect(accepted!.ticket).not.toBe(refused!.ticket);
    expect(server.ticketRequests.map((request) => request.ticket)).toEqual([refused!.ticket, accepted!.ticket]);
    expect(recording.attempts).toEqual([1]);
  });

  it("refreshes the ticket at once when an open connection is closed with 4001", async () => {
    const { server, client } = await startRig({ client: SLOW_BACKOFF });
    const socket = await client.websocket.connectToChat("a");
    const recording = record(socket);
    const closedAt = Date.now();
    server.liveConnections[0]!.close(4001, "ticket revoked");
    await until(() => server.connections.length === 2 && socket.isOpen);

    expect(Date.now() - closedAt).toBeLessThan(1000);
    expect(recording.states).toEqual(["reconnecting", "open"]);
    expect(recording.attempts).toEqual([1]);
    expect(server.ticketRequests).toHaveLength(2);
    expect(server.connections[1]!.ticketStatus).toBe("valid");
  });

  it("counts each refresh as an attempt and gives up after maxReconnectAttempts", async () => {
    const { server, client } = await startRig({ client: { maxReconnectAttempts: 2 } });
    server.refuseConnections(4001, 10, "ticket expired");
    const socket = client.websocket.open(PATH);
    const recording = record(socket);
    await expect(socket.ready).rejects.toSatisfy(
      (error) => error instanceof ReconnectFailedError && error.attempts === 2,
    );
    expect(server.connections.map((connection) => connection.refusedWith)).toEqual([4001, 4001, 4001]);
    expect(new Set(server.connections.map((connection) => connection.ticket)).size).toBe(3);
    expect(recording.attempts).toEqual([1, 2]);
  });
});

describe("4003, 4004 and 1008 are terminal", () => {
  it.each([4003, 4004, 1008])("%i on the first connection: connect rejects with ConnectionRejectedError", async (code) => {
    const { server, client } = await startRig();
    server.refuseConnections(code, 1, "not for you");
    const socket = client.websocket.open(PATH);
    await expect(socket.ready).rejects.toSatisfy(
      (error) => error instanceof ConnectionRejectedError && error.code === code && error.reason === "not for you",
    );
    expect(socket.state).toBe("closed");
    expect(client.websocket.connectionCount).toBe(0);
    await sleep(200); // several backoff delays
    expect(server.ticketRequests).toHaveLength(1);
    expect(server.connections).toHaveLength(1);
  });

  it.each([4003, 4004, 1008])("%i on an open connection: closed, never reconnected", async (code) => {
    const { server, client } = await startRig();
    const socket = await client.websocket.connectToChat("a");
    const recording = record(socket);
    server.liveConnections[0]!.close(code, "revoked");
    await stateOf(socket, "closed");

    expect(recording.states).toEqual(["closed"]);
    expect(errorsOf(recording)).toContainEqual(expect.objectContaining({ name: "ConnectionRejectedError", code, reason: "revoked" }));
    expect(client.websocket.connectionCount).toBe(0);
    await sleep(200);
    expect(server.connections).toHaveLength(1);
    expect(() => socket.send("late")).toThrow(expect.objectContaining({ name: "SocketClosedError" }));
  });
});

describe("any other close code reconnects with backoff", () => {
  it.each([1001, 1011, 1012, 4500])("%i: waits the backoff delay, then reopens with a fresh ticket", async (code) => {
    const { server, client } = await startRig({ client: { reconnectDelay: 100, maxReconnectDelay: 100 } });
    const socket = await client.websocket.connectToChat("a");
    const recording = record(socket);
    server.liveConnections[0]!.close(code, "going away");
    await until(() => server.connections.length === 2 && socket.isOpen);

    const [first, second] = server.connections;
    expect(first!.closeCode).toBe(code);
    // Backoff for attempt 1 is uniform in [50, 100] ms, counted from the close.
    const waited = server.ticketRequests[1]!.at - first!.closedAt!;
    expect(waited).toBeGreaterThanOrEqual(45);
    expect(waited).toBeLessThan(1000); // generous: timers run late on a busy machine
    expect(second!.ticket).not.toBe(first!.ticket);
    expect(second!.ticketStatus).toBe("valid");
    expect(recording.states).toEqual(["reconnecting", "open"]);
    expect(recording.attempts).toEqual([1]);
  });
});
