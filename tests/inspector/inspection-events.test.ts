/**
 * The `inspect` option, without a browser: every socket's actor reports its snapshots,
 * events and name to XState inspection observers — and so to Stately's inspector.
 */
import { createInspector, createWebSocketInspector, type StatelyInspectionEvent } from "@statelyai/inspect";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import type { AnyActorRef, InspectionEvent } from "xstate";
import { createClient, type InspectOption } from "../../src/index";
import { createReferenceServer, type ReferenceServer } from "../../src/testing";
import { until } from "../support/wait";

// ── fixtures ──────────────────────────────────────────────────────────────────

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(): Promise<ReferenceServer> {
  const server = await createReferenceServer();
  cleanups.push(() => server.close());
  return server;
}

function clientFor(server: ReferenceServer, inspect?: InspectOption) {
  const client = createClient({
    apiUrl: server.apiUrl,
    WebSocket,
    heartbeatInterval: 0,
    ...(inspect ? { inspect } : {}),
  });
  cleanups.push(() => client.websocket.closeAll());
  return client;
}

/** Collects inspection events; `roots()` are the events of root actors (the sockets' machines). */
function collector() {
  const events: InspectionEvent[] = [];
  const observe = (event: InspectionEvent) => events.push(event);
  const isRoot = (event: InspectionEvent) => event.actorRef.sessionId === event.rootId;
  const idOf = (event: InspectionEvent) => (event.actorRef as AnyActorRef).id;
  return {
    events,
    observe,
    idOf,
    /** Ids of the actors created, root actors first within each socket. */
    actorIds: () => events.filter((event) => event.type === "@xstate.actor").map(idOf),
    rootSnapshots: (key: string) =>
      events.filter(
        (event): event is Extract<InspectionEvent, { type: "@xstate.snapshot" }> =>
          event.type === "@xstate.snapshot" && isRoot(event) && idOf(event) === key,
      ),
    rootEvents: (key: string) =>
      events
        .filter((event) => event.type === "@xstate.event" && isRoot(event) && idOf(event) === key)
        .map((event) => (event as Extract<InspectionEvent, { type: "@xstate.event" }>).event.type),
  };
}

/** Opens `chat:abc` with an inspector, closes it, and waits until its actor is done. */
async function inspectOpenAndClose() {
  const server = await startServer();
  const inspected = collector();
  const client = clientFor(server, inspected.observe);
  const socket = await client.websocket.connectToChat("abc");
  socket.close();
  await until(() => inspected.rootSnapshots("chat:abc").some((event) => event.snapshot.status === "done"), 5000, "closed");
  return inspected;
}

/** A snapshot's state value as JSON, for comparisons. */
function valueOf(event: { snapshot: unknown }): string {
  return JSON.stringify((event.snapshot as { value?: unknown }).value);
}

// ── tests ─────────────────────────────────────────────────────────────────────

describe("inspecting sockets", () => {
  it("names each socket's actor after its key, the only actor it has", async () => {
    const server = await startServer();
    const inspected = collector();
    const client = clientFor(server, inspected.observe);

    await client.websocket.connectToChat("abc");
    await client.websocket.connectToTranscript("w1", "t 2");

    const roots = inspected.events
      .filter((event) => event.type === "@xstate.actor" && event.actorRef.sessionId === event.rootId)
      .map(inspected.idOf);
    expect(roots).toEqual(["chat:abc", "transcript:w1/t 2"]);
    // The ticket request is the machine's own action, no invoked child.
    expect(inspected.actorIds()).toEqual(["chat:abc", "transcript:w1/t 2"]);
  });

  it("shows the socket's IO as the machine's named actions: opened on entering socket, let go of on leaving it", async () => {
    const inspected = await inspectOpenAndClose();

    const actions = inspected.events
      .filter((event): event is Extract<InspectionEvent, { type: "@xstate.action" }> => event.type === "@xstate.action")
      .map((event) => event.action.type)
      .filter((type) => type.endsWith("Socket"));
    expect(actions).toEqual(["openSocket", "confirmSocket", "closeSocket", "releaseSocket"]);
  });

  it("reports the snapshots of a connection: ticket, handshake, confirming, open, then closing and closed", async () => {
    const inspected = await inspectOpenAndClose();

    const values = inspected.rootSnapshots("chat:abc").map(valueOf);
    const firstOf = (value: unknown) => values.indexOf(JSON.stringify(value));
    expect(firstOf({ ticket: "authorizing" })).toBe(0);
    expect(firstOf({ ticket: "requesting" })).toBeGreaterThan(firstOf({ ticket: "authorizing" }));
    expect(firstOf({ socket: "handshake" })).toBeGreaterThan(firstOf({ ticket: "requesting" }));
    expect(firstOf({ socket: "confirming" })).toBeGreaterThan(firstOf({ socket: "handshake" }));
    expect(firstOf({ socket: { open: "live" } })).toBeGreaterThan(firstOf({ socket: "confirming" }));
    expect(firstOf({ socket: "closing" })).toBeGreaterThan(firstOf({ socket: { open: "live" } }));
    expect(values.at(-1)).toBe(JSON.stringify("closed"));
  });

  it("reports the events the machine receives, from the socket and from the facade", async () => {
    const server = await startServer();
    const inspected = collector();
    const client = clientFor(server, inspected.observe);

    const socket = await client.websocket.connectToChat("abc");
    socket.close(4321, "bye");
    await until(() => inspected.rootEvents("chat:abc").includes("socket.closed"), 5000, "socket.closed");

    const received = inspected.rootEvents("chat:abc");
    expect(received).toEqual(
      expect.arrayContaining(["xstate.init", "ticket.authorized", "ticket.issued", "socket.open", "socket.confirmed", "connection.close"]),
    );
    expect(received.indexOf("socket.open")).toBeLessThan(received.indexOf("connection.close"));
    const close = inspected.events.find(
      (event) => event.type === "@xstate.event" && event.event.type === "connection.close",
    ) as Extract<InspectionEvent, { type: "@xstate.event" }>;
    expect(close.event).toEqual({ type: "connection.close", code: 4321, reason: "bye" });
  });

  it("shows a reconnect: drop, backoff, a fresh ticket, open again", async () => {
    const server = await startServer();
    const inspected = collector();
    const client = clientFor(server, inspected.observe);

    await client.websocket.connect("/notifications", { reconnectDelay: 20 }, "notifications");
    server.dropAll();
    const LIVE = JSON.stringify({ socket: { open: "live" } });
    const values = () => inspected.rootSnapshots("notifications").map(valueOf);
    await until(() => values().includes('"backoff"') && values().lastIndexOf(LIVE) > values().indexOf('"backoff"'), 5000, "open again");

    const steps = values().filter((value, index, all) => value !== all[index - 1]);
    const HANDSHAKE = JSON.stringify({ socket: "handshake" });
    const TICKET = [JSON.stringify({ ticket: "authorizing" }), JSON.stringify({ ticket: "requesting" })];
    const CONFIRMING = JSON.stringify({ socket: "confirming" });
    expect(steps).toEqual([...TICKET, HANDSHAKE, CONFIRMING, LIVE, '"backoff"', ...TICKET, HANDSHAKE, CONFIRMING, LIVE]);
    expect(inspected.rootEvents("notifications")).toContain("socket.closed");
  });

  it("lets a socket's own inspect option replace the client's, as an Observer object", async () => {
    const server = await startServer();
    const clientWide = collector();
    const perSocket: InspectionEvent[] = [];
    const client = clientFor(server, clientWide.observe);

    await client.websocket.connectToChat("mine", { inspect: { next: (event) => perSocket.push(event) } });
    await client.websocket.connectToChat("theirs");

    expect(perSocket.some((event) => event.type === "@xstate.actor" && (event.actorRef as AnyActorRef).id === "chat:mine")).toBe(true);
    expect(clientWide.actorIds()).toContain("chat:theirs");
    expect(clientWide.actorIds()).not.toContain("chat:mine");
  });

  it("keeps debug logging and the inspect option side by side", async () => {
    const server = await startServer();
    const inspected = collector();
    const logged: string[] = [];
    const client = clientFor(server, inspected.observe);

    await client.websocket.connectToChat("abc", { debug: (message) => logged.push(message) });

    expect(logged.some((line) => line.includes("chat:abc"))).toBe(true);
    expect(inspected.rootSnapshots("chat:abc").length).toBeGreaterThan(2);
  });
});

describe("Stately's inspector (@statelyai/inspect)", () => {
  it("lists each socket by its key and gets its machine definition and snapshots", async () => {
    const server = await startServer();
    const received: StatelyInspectionEvent[] = [];
    const inspector = createInspector({ send: (event) => received.push(event) });
    const client = clientFor(server, inspector.inspect);

    await client.websocket.connectToChat("abc");

    const actor = received.find((event) => event.type === "@xstate.actor" && event.name === "chat:abc");
    expect(actor).toBeDefined();
    expect(actor!.type === "@xstate.actor" && JSON.parse(actor!.definition ?? "{}").id).toBe("connection");
    const values = () =>
      received
        .filter((event) => event.type === "@xstate.snapshot" && event.sessionId === actor!.sessionId)
        .map((event) => event.type === "@xstate.snapshot" && valueOf(event));
    // connect resolves within the transition to open; the inspector may pass its snapshot on a moment later.
    await until(() => values().includes(JSON.stringify({ socket: { open: "live" } })), 3000, "the open snapshot");
    expect(values()).toContain(JSON.stringify({ socket: { open: "live" } }));
  });

  it("streams over createWebSocketInspector to a local receiver, with no ticket in it", async () => {
    const server = await startServer();
    const receiver = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    cleanups.push(() => new Promise((resolve) => receiver.close(resolve)));
    await new Promise((resolve) => receiver.once("listening", resolve));
    const frames: string[] = [];
    receiver.on("connection", (connection) => connection.on("message", (data) => frames.push(String(data))));

    const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${(receiver.address() as AddressInfo).port}` });
    cleanups.push(() => inspector.stop());
    const client = clientFor(server, inspector.inspect);
    const socket = await client.websocket.connectToChat("abc");
    socket.send("hello");
    await until(
      () => frames.some((frame) => frame.includes('"@xstate.snapshot"') && frame.includes('"open":"live"')),
      5000,
      "the open snapshot at the receiver",
    );

    const events = frames.map((frame) => JSON.parse(frame) as StatelyInspectionEvent);
    expect(events.some((event) => event.type === "@xstate.actor" && event.name === "chat:abc")).toBe(true);
    const tickets = server.ticketRequests.map((request) => request.ticket).filter((ticket): ticket is string => !!ticket);
    expect(tickets.length).toBeGreaterThan(0);
    for (const ticket of tickets) expect(frames.join("\n")).not.toContain(ticket);
  });
});
