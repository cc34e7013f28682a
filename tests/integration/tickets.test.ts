/**
 * The ticket endpoint over real HTTP (docs/protocol.md §5 "Ticket" and "Ticket endpoint
 * failures"): a fresh ticket per attempt with the bearer token, terminal 401/403,
 * everything else retried with backoff.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ReconnectFailedError, TicketError } from "../../src/index";
import { connectionsOn, errorsOf, record, startRig, stateOf, stopRigs } from "../support/rig";
import { sleep, until } from "../support/wait";

const PATH = "/ws/chat/a";

afterEach(stopRigs);

describe("fetching tickets", () => {
  it("fetches a fresh single-use ticket for every attempt, with the bearer token", async () => {
    const { server, client } = await startRig({ server: { token: "secret" }, client: { getAuthToken: () => "secret" } });
    const socket = await client.websocket.connectToChat("a");
    server.dropAll();
    await until(() => connectionsOn(server, PATH).length === 2 && socket.isOpen);

    expect(server.ticketRequests).toHaveLength(2);
    for (const request of server.ticketRequests) {
      expect(request).toMatchObject({ method: "POST", path: PATH, authorization: "Bearer secret", status: 200 });
    }
    const issued = server.ticketRequests.map((request) => request.ticket);
    expect(new Set(issued).size).toBe(2);
    expect(server.connections.map((connection) => connection.ticket)).toEqual(issued);
    expect(server.connections.map((connection) => connection.ticketStatus)).toEqual(["valid", "valid"]);
  });

  it("asks an async getAuthToken again for every attempt", async () => {
    let calls = 0;
    const { server, client } = await startRig({
      server: { token: (token) => token?.startsWith("token-") === true },
      client: { getAuthToken: async () => `token-${++calls}` },
    });
    const socket = await client.websocket.connectToChat("a");
    server.dropAll();
    await until(() => server.connections.length === 2 && socket.isOpen);
    expect(server.ticketRequests.map((request) => request.authorization)).toEqual(["Bearer token-1", "Bearer token-2"]);
  });

  it("sends no Authorization header without a token", async () => {
    const { server, client } = await startRig({ client: { getAuthToken: () => undefined } });
    await client.websocket.connectToChat("a");
    expect(server.ticketRequests[0]?.authorization).toBeUndefined();
  });

  it("hands out a ticket with getTicket(), for a path or for none", async () => {
    const { server, client } = await startRig();
    const forPath = await client.websocket.getTicket("/ws/chat/a");
    const bare = await client.websocket.getTicket();
    expect(server.ticketRequests.map((request) => [request.path, request.ticket])).toEqual([
      ["/ws/chat/a", forPath],
      [undefined, bare],
    ]);
  });

  it("rejects getTicket() with the status of a refused request", async () => {
    const { server, client } = await startRig();
    server.rejectTickets(500);
    await expect(client.websocket.getTicket()).rejects.toMatchObject({ name: "TicketError", status: 500 });
  });
});

describe("a refused ticket (401, 403) is terminal", () => {
  it.each([401, 403])("%i: connect rejects with TicketError and never retries", async (status) => {
    const { server, client } = await startRig();
    server.rejectTickets(status);
    const socket = client.websocket.open(PATH);
    await expect(socket.ready).rejects.toSatisfy(
      (error) => error instanceof TicketError && error.status === status,
    );
    expect(socket.state).toBe("closed");
    expect(client.websocket.connectionCount).toBe(0);
    await sleep(200); // several backoff delays
    expect(server.ticketRequests).toHaveLength(1);
    expect(server.connections).toHaveLength(0);
  });

  it("401 from a real token check: the wrong token closes the socket", async () => {
    const { server, client } = await startRig({ server: { token: "secret" }, client: { getAuthToken: () => "stale" } });
    await expect(client.websocket.connectToChat("a")).rejects.toMatchObject({ name: "TicketError", status: 401 });
    expect(server.ticketRequests.map((request) => request.status)).toEqual([401]);
  });

  it("a 403 on a later reconnect closes an established socket", async () => {
    const { server, client } = await startRig();
    const socket = await client.websocket.connectToChat("a");
    const recording = record(socket);
    server.rejectTickets(403);
    server.dropAll();
    await stateOf(socket, "closed");
    expect(recording.states).toEqual(["reconnecting", "closed"]);
    expect(errorsOf(recording)).toContainEqual(expect.objectContaining({ name: "TicketError", status: 403 }));
    await sleep(200);
    expect(server.ticketRequests).toHaveLength(2);
    expect(client.websocket.connectionCount).toBe(0);
  });
});

describe("other ticket failures are retried with backoff", () => {
  it.each([408, 429, 500, 503])("%i: retried, then opens", async (status) => {
    const { server, client } = await startRig();
    server.rejectTickets(status, 2);
    const socket = client.websocket.open(PATH);
    const recording = record(socket);
    await socket.ready;
    expect(server.ticketRequests.map((request) => request.status)).toEqual([status, status, 200]);
    expect(errorsOf(recording).map((error) => [error.name, (error as TicketError).status])).toEqual([
      ["TicketError", status],
      ["TicketError", status],
    ]);
    expect(recording.attempts).toEqual([1, 2]);
    expect(recording.states).toEqual(["reconnecting", "open"]);
  });

  it("a 200 with a body that is not a ticket is retried", async () => {
    const { server, client } = await startRig();
    server.malformTickets(1);
    const socket = client.websocket.open(PATH);
    const recording = record(socket);
    await socket.ready;
    expect(server.ticketRequests.map((request) => request.status)).toEqual([200, 200]);
    expect(errorsOf(recording)).toEqual([expect.objectContaining({ name: "TicketError", status: 200 })]);
    expect(server.connections).toHaveLength(1);
  });

  it("a ticket answer slower than connectTimeout abandons the attempt and retries", async () => {
    const { server, client } = await startRig({ client: { connectTimeout: 150 } });
    server.setTicketLatency(500);
    const started = Date.now();
    const socket = client.websocket.open(PATH);
    await stateOf(socket, "reconnecting");
    const abandonedAfter = Date.now() - started;
    server.setTicketLatency(0);
    await socket.ready;

    expect(abandonedAfter).toBeGreaterThanOrEqual(140);
    expect(abandonedAfter).toBeLessThan(500);
    // The slow answer is still sent (and recorded) later; its ticket is never used.
    const [slow, fresh] = await until(() => server.ticketRequests.length === 2 && [...server.ticketRequests].sort((a, b) => a.at - b.at));
    expect(server.connections.map((connection) => connection.ticket)).toEqual([fresh!.ticket]);
    expect(slow!.respondedAt).toBeGreaterThan(fresh!.respondedAt);
  });

  it("gives up with ReconnectFailedError when a first connection never gets a ticket", async () => {
    const { server, client } = await startRig({ client: { maxReconnectAttempts: 2 } });
    server.rejectTickets(503, 10);
    const socket = client.websocket.open(PATH);
    const recording = record(socket);
    await expect(socket.ready).rejects.toSatisfy(
      (error) => error instanceof ReconnectFailedError && error.attempts === 2,
    );
    expect(server.ticketRequests).toHaveLength(3); // tried once, then twice more
    expect(recording.attempts).toEqual([1, 2]);
    expect(socket.state).toBe("closed");
  });
});
