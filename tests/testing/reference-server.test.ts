import { connect as connectTcp } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { createReferenceServer } from "../../src/testing";
import type { ReferenceServer, ReferenceServerOptions } from "../../src/testing";
import { PING_FRAME, PONG_FRAME, TICKET_PATH } from "../../machines/protocol";
import { sleep } from "../support/wait";

// ── fixtures ────────────────────────────────────────────────────────────────

const servers: ReferenceServer[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options?: ReferenceServerOptions): Promise<ReferenceServer> {
  const server = await createReferenceServer(options);
  servers.push(server);
  return server;
}

function requestTicket(
  server: ReferenceServer,
  body: unknown = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${server.apiUrl}${TICKET_PATH}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

async function fetchTicket(server: ReferenceServer, path?: string): Promise<string> {
  const response = await requestTicket(server, path === undefined ? {} : { path });
  expect(response.status).toBe(200);
  const { ticket } = (await response.json()) as { ticket: string };
  return ticket;
}

interface Received {
  data: string | Buffer;
  isBinary: boolean;
}

/** What a client received, captured from its creation so no early frame or close is missed. */
interface Inbox {
  messages: Received[];
  onMessage: (() => void) | undefined;
  closed: Promise<{ code: number; reason: string }>;
}

const inboxes = new WeakMap<WebSocket, Inbox>();

function inboxOf(client: WebSocket): Inbox {
  const inbox = inboxes.get(client);
  if (inbox === undefined) throw new Error("client not created by openSocket()");
  return inbox;
}

/** A `ws` client on `path?ticket=…` (tracked for cleanup); resolves once open. */
function openSocket(server: ReferenceServer, path: string, ticket?: string, extraQuery = ""): Promise<WebSocket> {
  const query = ticket === undefined ? "" : `?ticket=${encodeURIComponent(ticket)}${extraQuery}`;
  const client = new WebSocket(`${server.wsUrl}${path}${query}`);
  clients.push(client);
  const inbox: Inbox = {
    messages: [],
    onMessage: undefined,
    closed: new Promise((resolve) => {
      client.once("close", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
    }),
  };
  inboxes.set(client, inbox);
  client.on("message", (data: Buffer, isBinary: boolean) => {
    inbox.messages.push({ data: isBinary ? data : data.toString("utf8"), isBinary });
    inbox.onMessage?.();
  });
  return new Promise((resolve, reject) => {
    client.once("open", () => resolve(client));
    client.once("error", reject);
  });
}

/** Ticket over HTTP, then an open socket on `path`. */
async function connect(server: ReferenceServer, path = "/ws/chat/1"): Promise<WebSocket> {
  return openSocket(server, path, await fetchTicket(server, path));
}

/** The oldest unread message, waiting up to `timeoutMs` for one. */
function nextMessage(client: WebSocket, timeoutMs = 1000): Promise<Received> {
  const inbox = inboxOf(client);
  return new Promise((resolve, reject) => {
    const take = (): boolean => {
      const message = inbox.messages.shift();
      if (message === undefined) return false;
      inbox.onMessage = undefined;
      clearTimeout(timer);
      resolve(message);
      return true;
    };
    const timer = setTimeout(() => {
      inbox.onMessage = undefined;
      reject(new Error("no message"));
    }, timeoutMs);
    if (!take()) inbox.onMessage = take;
  });
}

/** Every unread message after waiting `ms` (expected empty for silence). */
async function collectFor(client: WebSocket, ms: number): Promise<string[]> {
  const inbox = inboxOf(client);
  await sleep(ms);
  return inbox.messages.splice(0).map((message) => message.data.toString());
}

/** The close event of `client` (already fired or within `timeoutMs`). */
function closed(client: WebSocket, timeoutMs = 1000): Promise<{ code: number; reason: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("socket did not close")), timeoutMs);
  });
  return Promise.race([inboxOf(client).closed, timeout]).finally(() => clearTimeout(timer));
}

/** An upgrade request whose target no URL can be made of. */
const MALFORMED_UPGRADE =
  "GET https:// HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/**
 * Sends `request` as raw bytes and resolves with everything the server wrote before the
 * socket closed. With `keepOpen` the client keeps its side open after the server's FIN and
 * keeps writing: only a socket the server really closed answers with a reset.
 */
function rawExchange(server: ReferenceServer, request: string, { timeoutMs = 2000, keepOpen = false } = {}): Promise<string> {
  const { port } = new URL(server.apiUrl);
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ port: Number(port), host: "127.0.0.1", allowHalfOpen: keepOpen }, () => socket.write(request));
    let received = "";
    let poke: ReturnType<typeof setInterval> | undefined;
    const timer = setTimeout(() => {
      clearInterval(poke);
      socket.destroy();
      reject(new Error(`the server kept the socket open for ${timeoutMs} ms: ${JSON.stringify(received)}`));
    }, timeoutMs);
    socket.on("data", (chunk) => (received += chunk.toString("latin1")));
    if (keepOpen) socket.on("end", () => (poke = setInterval(() => socket.write("still here\r\n"), 50)));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      clearInterval(poke);
      resolve(received);
    });
  });
}


// ── tests ───────────────────────────────────────────────────────────────────

describe("createReferenceServer", () => {
  it("listens on 127.0.0.1 on a free port and exposes both base URLs", async () => {
    const server = await start();
    expect(server.port).toBeGreaterThan(0);
    expect(server.host).toBe("127.0.0.1");
    expect(server.apiUrl).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.wsUrl).toBe(`ws://127.0.0.1:${server.port}`);
  });

  it("refuses to listen on anything but loopback", async () => {
    await expect(createReferenceServer({ host: "0.0.0.0" })).rejects.toThrow(TypeError);
    await expect(createReferenceServer({ ticketTtl: -1 })).rejects.toThrow(/ticketTtl/);
  });

  it("closes idempotently, dropping live sockets", async () => {
    const server = await start();
    const client = await connect(server);
    const first = server.close();
    expect(server.close()).toBe(first);
    expect((await closed(client)).code).toBe(1006);
    await first;
    await expect(fetch(`${server.apiUrl}${TICKET_PATH}`, { method: "POST" })).rejects.toThrow();
  });
});

describe("ticket endpoint", () => {
  it("issues an opaque ticket with its expiry", async () => {
    const server = await start({ ticketTtl: 5000 });
    const before = Date.now();
    const response = await requestTicket(server, { path: "/ws/chat/1" });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    const body = (await response.json()) as { ticket: string; expiresAt: number };
    expect(body.ticket).toMatch(/^[\w-]{16,}$/);
    expect(body.expiresAt).toBeGreaterThanOrEqual(before + 5000);
    expect(body.expiresAt).toBeLessThanOrEqual(Date.now() + 5000);
  });

  it("lets a ticket open exactly one connection", async () => {
    const server = await start();
    const ticket = await fetchTicket(server, "/ws/chat/1");
    await openSocket(server, "/ws/chat/1", ticket);
    const reused = await openSocket(server, "/ws/chat/1", ticket);
    expect(await closed(reused)).toEqual({ code: 4001, reason: "ticket used" });
    expect(server.connections.map((c) => c.ticketStatus)).toEqual(["valid", "used"]);
  });

  it("rejects an expired ticket with 4001", async () => {
    const server = await start({ ticketTtl: 20 });
    const ticket = await fetchTicket(server);
    await sleep(40);
    const client = await openSocket(server, "/ws/chat/1", ticket);
    expect((await closed(client)).code).toBe(4001);
    expect(server.connections[0]).toMatchObject({ ticketStatus: "expired", ticketValid: false, refusedWith: 4001 });
  });

  it("rejects an upgrade without a ticket or with an unknown one", async () => {
    const server = await start();
    const missing = await openSocket(server, "/ws/chat/1");
    const unknown = await openSocket(server, "/ws/chat/1", "made-up");
    expect((await closed(missing)).code).toBe(4001);
    expect((await closed(unknown)).code).toBe(4001);
    expect(server.connections.map((c) => c.ticketStatus)).toEqual(["missing", "unknown"]);
  });

  it("binds a ticket to the path it was requested for", async () => {
    const server = await start();
    const elsewhere = await openSocket(server, "/ws/chat/2", await fetchTicket(server, "/ws/chat/1"));
    expect((await closed(elsewhere)).code).toBe(4001);
    expect(server.connections[0]?.ticketStatus).toBe("wrong-path");

    const anyPath = await openSocket(server, "/ws/chat/2", await fetchTicket(server));
    expect(anyPath.readyState).toBe(WebSocket.OPEN);
    expect(server.liveConnections.map((c) => c.path)).toEqual(["/ws/chat/2"]);
  });

  it("checks the bearer token when one is configured", async () => {
    const server = await start({ token: "secret" });
    expect((await requestTicket(server)).status).toBe(401);
    expect((await requestTicket(server, {}, { Authorization: "Bearer wrong" })).status).toBe(401);
    expect((await requestTicket(server, {}, { Authorization: "Bearer secret" })).status).toBe(200);
    expect(server.ticketRequests.map((r) => [r.authorization, r.status])).toEqual([
      [undefined, 401],
      ["Bearer wrong", 401],
      ["Bearer secret", 200],
    ]);
  });

  it("accepts a token predicate", async () => {
    const seen: Array<string | undefined> = [];
    const server = await start({
      token: (token) => {
        seen.push(token);
        return token?.startsWith("ok-") === true;
      },
    });
    expect((await requestTicket(server, {}, { Authorization: "Bearer ok-1" })).status).toBe(200);
    expect((await requestTicket(server, {}, { Authorization: "Basic ok-1" })).status).toBe(401);
    expect(seen).toEqual(["ok-1", undefined]);
  });

  it("answers CORS preflights so a page on another origin can call it", async () => {
    const server = await start();
    const response = await fetch(`${server.apiUrl}${TICKET_PATH}`, {
      method: "OPTIONS",
      headers: {
        Origin: "http://example.test",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, authorization",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-headers")).toBe("Content-Type, Authorization");
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    expect(server.ticketRequests).toHaveLength(0);
  });

  it("answers 404 elsewhere, 405 for other methods and 400 for a bad body", async () => {
    const server = await start();
    expect((await fetch(`${server.apiUrl}/other`, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${server.apiUrl}${TICKET_PATH}`)).status).toBe(405);
    const notJson = await fetch(`${server.apiUrl}${TICKET_PATH}`, { method: "POST", body: "{" });
    expect(notJson.status).toBe(400);
    expect((await requestTicket(server, { path: "no-slash" })).status).toBe(400);
    expect((await requestTicket(server, [])).status).toBe(400);
  });

  it("answers 400 to a request target no URL can be made of, and stays up", async () => {
    const server = await start();
    const plain = await rawExchange(server, "POST http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    expect(plain).toMatch(/^HTTP\/1\.1 400 /);
    const upgrade = await rawExchange(server, MALFORMED_UPGRADE);
    expect(upgrade).toMatch(/^HTTP\/1\.1 400 /);
    expect(server.connections).toHaveLength(0);
    expect(server.ticketRequests).toHaveLength(0);
    expect((await requestTicket(server)).status).toBe(200);
  });

  it("answers 500 and records the request when a token predicate throws, telling the client nothing of why", async () => {
    const server = await start({
      token: (token) => {
        if (token === "boom") throw new Error("token store at redis://secret@10.0.0.1 down");
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        if (token === "yes") throw true;
        return token === "ok";
      },
    });
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const failed = await requestTicket(server, {}, { Authorization: "Bearer boom" });
      expect(failed.status).toBe(500);
      expect(await failed.json()).toEqual({ error: "the token check failed" });
      expect((await requestTicket(server, {}, { Authorization: "Bearer yes" })).status).toBe(500); // a thrown `true` is no yes
      expect((await requestTicket(server, {}, { Authorization: "Bearer ok" })).status).toBe(200);
      expect(server.ticketRequests.map((request) => request.status)).toEqual([500, 500, 200]);
      expect(errors).toHaveBeenCalledTimes(2); // the test author learns why
    } finally {
      errors.mockRestore();
    }
  });

  it("answers a malformed upgrade and closes the socket even when the client keeps its side open", async () => {
    const server = await start();
    const ended = await rawExchange(server, MALFORMED_UPGRADE, { timeoutMs: 1500, keepOpen: true });
    expect(ended).toMatch(/^HTTP\/1\.1 400 /);
  });

  it("says nothing when a client goes away in the middle of its request body", async () => {
    const server = await start();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      await rawExchange(server, `POST ${TICKET_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"pa`, { timeoutMs: 300 }).catch(() => "");
      await sleep(50);
      expect(errors).not.toHaveBeenCalled();
      expect(server.ticketRequests).toHaveLength(0);
    } finally {
      errors.mockRestore();
    }
  });
});

describe("socket protocol", () => {
  it("answers the heartbeat ping with a pong", async () => {
    const server = await start();
    const client = await connect(server);
    client.send(PING_FRAME);
    expect(await nextMessage(client)).toEqual({ data: PONG_FRAME, isBinary: false });
  });

  it("echoes other frames with their type by default", async () => {
    const server = await start();
    const client = await connect(server);
    client.send('{"type":"hello"}');
    expect(await nextMessage(client)).toEqual({ data: '{"type":"hello"}', isBinary: false });
    client.send(Buffer.from([1, 2, 3]));
    expect(await nextMessage(client)).toEqual({ data: Buffer.from([1, 2, 3]), isBinary: true });
  });

  it("hands frames to onMessage instead of echoing, and greets with onConnection", async () => {
    const server = await start({
      onConnection: (connection) => connection.send(`welcome ${connection.id}`),
      onMessage: (connection, data, self) => {
        self.broadcast(connection.path, `relay: ${String(data)}`);
      },
    });
    const client = await connect(server);
    expect((await nextMessage(client)).data).toBe("welcome 1");
    client.send("hi");
    expect((await nextMessage(client)).data).toBe("relay: hi");
    client.send(PING_FRAME);
    expect((await nextMessage(client)).data).toBe(PONG_FRAME);
  });

  it("closes with 1011 when a hook throws", async () => {
    const server = await start({
      onMessage: () => {
        throw new Error("boom");
      },
    });
    const original = console.error;
    console.error = () => undefined;
    try {
      const client = await connect(server);
      client.send("hi");
      expect((await closed(client)).code).toBe(1011);
    } finally {
      console.error = original;
    }
  });

  it("broadcasts to the live connections of one path and counts them", async () => {
    const server = await start();
    const a1 = await connect(server, "/ws/chat/a");
    const a2 = await connect(server, "/ws/chat/a");
    const b = await connect(server, "/ws/chat/b");
    const quietB = collectFor(b, 100);
    expect(server.broadcast("/ws/chat/a", "news")).toBe(2);
    expect((await nextMessage(a1)).data).toBe("news");
    expect((await nextMessage(a2)).data).toBe("news");
    expect(await quietB).toEqual([]);
    expect(server.broadcast("/ws/chat/none", "news")).toBe(0);
  });

  it("issues tickets without HTTP for direct connections", async () => {
    const server = await start();
    const { ticket } = server.issueTicket("/ws/chat/1");
    const client = await openSocket(server, "/ws/chat/1", ticket);
    client.send(PING_FRAME);
    expect((await nextMessage(client)).data).toBe(PONG_FRAME);
    expect(server.ticketRequests).toHaveLength(0);
  });
});

describe("fault controls", () => {
  it("dropAll() kills every socket without a close frame: clients see 1006", async () => {
    const server = await start();
    const clientA = await connect(server, "/ws/chat/a");
    const clientB = await connect(server, "/ws/chat/b");
    server.dropAll();
    expect((await closed(clientA)).code).toBe(1006);
    expect((await closed(clientB)).code).toBe(1006);
    await server.waitFor((s) => s.liveConnections.length === 0);
    expect(server.connections.map((c) => c.closeCode)).toEqual([1006, 1006]);
  });

  it("dropAll(code) and closeAll(code, reason) close with that code", async () => {
    const server = await start();
    const first = await connect(server);
    server.dropAll(1012);
    expect((await closed(first)).code).toBe(1012);

    const second = await connect(server);
    server.closeAll(4003, "bye");
    expect(await closed(second)).toEqual({ code: 4003, reason: "bye" });
    await server.waitFor((s) => s.connections[1]?.closeCode === 4003);
    expect(() => server.closeAll(1006)).toThrow(RangeError);
  });

  it("stall() keeps the socket open but silent until resume()", async () => {
    const server = await start();
    const client = await connect(server);
    server.stall();
    expect(server.isStalled).toBe(true);
    expect(server.liveConnections[0]?.isStalled).toBe(true);

    client.send(PING_FRAME);
    expect(server.broadcast("/ws/chat/1", "news")).toBe(1); // held, as in a send buffer
    expect(await collectFor(client, 300)).toEqual([]);
    expect(client.readyState).toBe(WebSocket.OPEN);
    expect(server.frames).toHaveLength(0);

    const late = collectFor(client, 300);
    server.resume();
    // What was written during the stall arrives first, then the answer to the late ping.
    expect(await late).toEqual(["news", PONG_FRAME]);
    expect(server.frames.map((f) => f.data)).toEqual([PING_FRAME]);
  });

  it("stall() completes new upgrades and leaves them silent too", async () => {
    const server = await start();
    server.stall();
    const accepted = await connect(server);
    const badTicket = await openSocket(server, "/ws/chat/1", "made-up");
    accepted.send("hello");
    const silence = collectFor(accepted, 200);
    const notClosed = closed(badTicket, 200);
    expect(await silence).toEqual([]);
    await expect(notClosed).rejects.toThrow("did not close");

    const echoed = nextMessage(accepted);
    const refused = closed(badTicket);
    server.resume();
    expect((await echoed).data).toBe("hello");
    expect((await refused).code).toBe(4001);
  });

  it("stalls one connection on its own", async () => {
    const server = await start();
    const stalled = await connect(server, "/ws/chat/a");
    const healthy = await connect(server, "/ws/chat/b");
    server.liveConnections[0]?.stall();
    stalled.send(PING_FRAME);
    healthy.send(PING_FRAME);
    expect((await nextMessage(healthy)).data).toBe(PONG_FRAME);
    expect(await collectFor(stalled, 100)).toEqual([]);
    server.liveConnections[0]?.resume();
    expect((await nextMessage(stalled)).data).toBe(PONG_FRAME);
  });

  it("rejectTickets(status, count) fails the next requests, before the token check", async () => {
    const server = await start({ token: "secret" });
    const auth = { Authorization: "Bearer secret" };
    server.rejectTickets(503, 2);
    server.rejectTickets(403);
    const first = await requestTicket(server, {}, auth);
    expect(first.status).toBe(503);
    expect(await first.json()).toHaveProperty("error");
    expect((await requestTicket(server)).status).toBe(503);
    expect((await requestTicket(server, {}, auth)).status).toBe(403);
    expect((await requestTicket(server, {}, auth)).status).toBe(200);
    expect(() => server.rejectTickets(200)).toThrow(RangeError);
  });

  it("malformTickets() answers 200 with a body that is not a ticket", async () => {
    const server = await start();
    server.malformTickets();
    const response = await requestTicket(server);
    expect(response.status).toBe(200);
    await expect(response.json()).rejects.toThrow();
    expect((await requestTicket(server)).status).toBe(200);
  });

  it("refuseConnections(code, count, reason) closes the next upgrades with that code", async () => {
    const server = await start();
    server.refuseConnections(4004, 2, "no such chat");
    for (const code of [1008, 1011, 4003]) server.refuseConnections(code);

    const ticket = await fetchTicket(server);
    const refused = await openSocket(server, "/ws/chat/1", ticket);
    expect(await closed(refused)).toEqual({ code: 4004, reason: "no such chat" });
    const seen: number[] = [];
    for (let i = 0; i < 4; i += 1) seen.push((await closed(await connect(server))).code);
    expect(seen).toEqual([4004, 1008, 1011, 4003]);

    const reused = await openSocket(server, "/ws/chat/1", ticket);
    expect((await closed(reused)).code).toBe(4001);
    const accepted = await connect(server);
    expect(accepted.readyState).toBe(WebSocket.OPEN);
    expect(server.connections[0]).toMatchObject({ ticketValid: true, refusedWith: 4004 });
    expect(() => server.refuseConnections(1005)).toThrow(RangeError);
  });

  it("setTicketLatency(ms) delays ticket responses", async () => {
    const server = await start();
    server.setTicketLatency(120);
    const startedAt = Date.now();
    expect((await requestTicket(server)).status).toBe(200);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(110);
    const record = server.ticketRequests[0];
    expect(record && record.respondedAt - record.at).toBeGreaterThanOrEqual(110);

    server.setTicketLatency(0);
    const fastStart = Date.now();
    await requestTicket(server);
    expect(Date.now() - fastStart).toBeLessThan(100);
  });

  it("restart() cuts off a delayed ticket request: no fault used, no ticket issued, nothing recorded", async () => {
    const server = await start({ ticketLatency: 300 });
    server.rejectTickets(503);
    const cutOff = requestTicket(server);
    await sleep(50);
    await server.restart();
    await expect(cutOff).rejects.toThrow();
    await sleep(350); // past the latency the cut-off request was waiting out
    expect(server.ticketRequests).toHaveLength(0);
    server.setTicketLatency(0);
    expect((await requestTicket(server)).status).toBe(503); // the fault is still queued
    expect(server.ticketRequests.map((request) => request.status)).toEqual([503]);
  });

  it("close() cancels a delayed ticket response at once", async () => {
    const server = await start({ ticketLatency: 10_000 });
    const pending = requestTicket(server);
    await server.waitFor(() => true);
    await sleep(20);
    const closingAt = Date.now();
    await server.close();
    await expect(pending).rejects.toThrow();
    expect(Date.now() - closingAt).toBeLessThan(1000);
    expect(server.ticketRequests).toHaveLength(0);
  });

  it("setAutoPong(false) leaves pings unanswered while echoing the rest", async () => {
    const server = await start();
    const client = await connect(server);
    server.setAutoPong(false);
    client.send(PING_FRAME);
    client.send("data");
    expect(await collectFor(client, 150)).toEqual(["data"]);
    expect(server.frames.map((f) => f.data)).toEqual([PING_FRAME, "data"]);
  });

  it("restart() drops everyone, forgets tickets and listens again on the same port", async () => {
    const server = await start();
    const port = server.port;
    const client = await connect(server);
    const oldTicket = await fetchTicket(server);

    const restarting = server.restart({ downtime: 80 });
    expect((await closed(client)).code).toBe(1006);
    await expect(fetch(`${server.apiUrl}${TICKET_PATH}`, { method: "POST", body: "{}" })).rejects.toThrow();
    await restarting;

    expect(server.port).toBe(port);
    const forgotten = await openSocket(server, "/ws/chat/1", oldTicket);
    expect((await closed(forgotten)).code).toBe(4001);
    expect(server.connections.at(-1)?.ticketStatus).toBe("unknown");
    const fresh = await connect(server);
    fresh.send(PING_FRAME);
    expect((await nextMessage(fresh)).data).toBe(PONG_FRAME);
  });

  it("restart() ends a stall and rejects a concurrent restart", async () => {
    const server = await start();
    server.stall();
    const restarting = server.restart({ downtime: 10 });
    await expect(server.restart()).rejects.toThrow(/in progress/);
    await restarting;
    expect(server.isStalled).toBe(false);
    const client = await connect(server);
    client.send(PING_FRAME);
    expect((await nextMessage(client)).data).toBe(PONG_FRAME);
  });

  it("close() during a restart's downtime stops it for good", async () => {
    const server = await start();
    const restarting = server.restart({ downtime: 10_000 });
    await sleep(20);
    const closingAt = Date.now();
    await server.close();
    await restarting;
    expect(Date.now() - closingAt).toBeLessThan(1000);
    await expect(fetch(`${server.apiUrl}${TICKET_PATH}`, { method: "POST" })).rejects.toThrow();
    await expect(server.restart()).rejects.toThrow(/closed/);
  });
});

describe("records", () => {
  it("records ticket requests, connections and frames", async () => {
    const server = await start();
    const ticket = await fetchTicket(server, "/ws/chat/1");
    const client = await openSocket(server, "/ws/chat/1", ticket, "&lang=en");
    client.send("text");
    client.send(Buffer.from([7]));
    await server.waitFor((s) => s.frames.length === 2);

    expect(server.ticketRequests).toEqual([
      expect.objectContaining({ method: "POST", path: "/ws/chat/1", status: 200, ticket, authorization: undefined }),
    ]);
    expect(server.connections).toEqual([
      expect.objectContaining({
        id: 1,
        path: "/ws/chat/1",
        query: { ticket, lang: "en" },
        ticket,
        ticketStatus: "valid",
        ticketValid: true,
        refusedWith: undefined,
      }),
    ]);
    expect(server.frames).toEqual([
      expect.objectContaining({ connectionId: 1, path: "/ws/chat/1", data: "text", binary: false }),
      expect.objectContaining({ connectionId: 1, data: Buffer.from([7]), binary: true }),
    ]);

    client.close(1000, "done");
    const record = await server.waitFor((s) => s.connections.find((c) => c.closedAt !== undefined));
    expect(record).toMatchObject({ closeCode: 1000, closeReason: "done" });
    expect(server.liveConnections).toHaveLength(0);
  });

  it("waitFor resolves with the predicate's value and rejects on timeout", async () => {
    const server = await start();
    const live = server.waitFor((s) => s.liveConnections[0]);
    await connect(server, "/ws/chat/9");
    expect((await live).path).toBe("/ws/chat/9");
    await expect(server.waitFor((s) => s.frames.length > 0, 50)).rejects.toThrow(/50 ms/);
  });

  it("clearRecords() empties the records; reset() also clears queued faults", async () => {
    const server = await start();
    await connect(server);
    server.rejectTickets(500, 3);
    server.refuseConnections(4003, 3);
    server.setTicketLatency(5000);
    server.setAutoPong(false);
    server.clearRecords();
    expect([server.ticketRequests, server.connections, server.frames]).toEqual([[], [], []]);
    expect(server.liveConnections).toHaveLength(1);

    server.stall();
    server.reset();
    expect(server.isStalled).toBe(false);
    const client = await connect(server);
    client.send(PING_FRAME);
    expect((await nextMessage(client)).data).toBe(PONG_FRAME);
  });
});

// ── history and since (docs/protocol.md §6) ─────────────────────────────────

/** A socket on `path` with a directly issued ticket and `query` after it. */
function join(server: ReferenceServer, path: string, query = ""): Promise<WebSocket> {
  return openSocket(server, path, server.issueTicket(path).ticket, query);
}

/** Every frame `client` received so far, unread ones included: text as it is, binary as `bin:<text>`. */
function framesOf(client: WebSocket): string[] {
  return inboxOf(client).messages.map((message) => (message.isBinary ? `bin:${message.data.toString()}` : message.data.toString()));
}

const idsOf = (client: WebSocket): number[] => framesOf(client).map((frame) => (JSON.parse(frame) as { id: number }).id);

/** Resolves once `check()` holds, polled every 5 ms. */
async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

describe("broadcast(path, value)", () => {
  it("sends strings and bytes as they are and anything else as JSON, without ids when history is off", async () => {
    const server = await start();
    const client = await join(server, "/ws/chat/a", "&since=0");
    expect(server.broadcast("/ws/chat/a", { type: "note" })).toBe(1);
    server.broadcast("/ws/chat/a", "plain");
    server.broadcast("/ws/chat/a", Buffer.from("raw"));
    server.broadcast("/ws/chat/a", [1, null]);
    await until(() => framesOf(client).length === 4, "four frames");
    expect(framesOf(client)).toEqual(['{"type":"note"}', "plain", "bin:raw", "[1,null]"]);
    expect(() => server.broadcast("/ws/chat/a", undefined)).toThrow(TypeError);
    expect(() => server.broadcast("/ws/chat/a", 1n)).toThrow(/broadcast: the value cannot be sent as JSON/);
  });
});

describe("history", () => {
  it("numbers broadcast frames 1, 2, 3… per path and adds the number to plain objects as id", async () => {
    const server = await start({ history: 10 });
    const a = await join(server, "/ws/chat/a");
    const b = await join(server, "/ws/chat/b");
    server.broadcast("/ws/chat/a", { type: "note" });
    server.broadcast("/ws/chat/a", "plain text");
    server.broadcast("/ws/chat/a", { id: "its own", text: "hi" });
    server.broadcast("/ws/chat/a", [1]);
    server.broadcast("/ws/chat/b", { type: "other path" });
    await until(() => framesOf(a).length === 4 && framesOf(b).length === 1, "frames on both paths");
    expect(framesOf(a)).toEqual(['{"type":"note","id":1}', "plain text", '{"id":3,"text":"hi"}', "[1]"]);
    expect(framesOf(b)).toEqual(['{"type":"other path","id":1}']);
  });

  it("replays the kept frames after since, in order, before the live ones", async () => {
    const server = await start({ history: 3 });
    for (let n = 1; n <= 5; n++) expect(server.broadcast("/ws/chat/a", { n })).toBe(0);

    const resumed = await join(server, "/ws/chat/a", "&since=3");
    const fromStart = await join(server, "/ws/chat/a", "&since=0");
    const upToDate = await join(server, "/ws/chat/a", "&since=5");
    const fresh = await join(server, "/ws/chat/a");
    const malformed = await join(server, "/ws/chat/a", "&since=three");
    server.broadcast("/ws/chat/a", { n: 6 });
    await until(() => [resumed, fromStart, upToDate, fresh, malformed].every((client) => idsOf(client).at(-1) === 6), "frame 6 everywhere");

    expect(idsOf(resumed)).toEqual([4, 5, 6]);
    // Only the last 3 are kept: frames 1 and 2 are gone, and the ids show the gap.
    expect(idsOf(fromStart)).toEqual([3, 4, 5, 6]);
    expect(idsOf(upToDate)).toEqual([6]);
    expect(idsOf(fresh)).toEqual([6]);
    expect(idsOf(malformed)).toEqual([6]);
  });

  it("replays before onConnection, so a frame broadcast from it follows the replay once", async () => {
    const server = await start({
      history: 10,
      onConnection: (connection, self) => {
        if (connection.query.since !== undefined) self.broadcast(connection.path, { greeting: true });
      },
    });
    server.broadcast("/ws/chat/a", { n: 1 });
    server.broadcast("/ws/chat/a", { n: 2 });
    const client = await join(server, "/ws/chat/a", "&since=0");
    await until(() => framesOf(client).length >= 3, "replay and greeting");
    await sleep(20);
    expect(framesOf(client)).toEqual(['{"n":1,"id":1}', '{"n":2,"id":2}', '{"greeting":true,"id":3}']);
  });

  it("covers frames broadcast while a connection's upgrade waits out a stall, once each", async () => {
    const server = await start({ history: 100 });
    server.broadcast("/ws/chat/a", { n: 1 });
    server.stall();
    const client = await join(server, "/ws/chat/a", "&since=0");
    server.broadcast("/ws/chat/a", { n: 2 });
    server.broadcast("/ws/chat/a", { n: 3 });
    await sleep(20);
    expect(framesOf(client)).toEqual([]);
    server.resume();
    server.broadcast("/ws/chat/a", { n: 4 });
    await until(() => framesOf(client).length === 4, "four frames");
    await sleep(20);
    expect(idsOf(client)).toEqual([1, 2, 3, 4]);
  });

  it("holds frames broadcast to a stalled connection and writes them on resume, once each, in order", async () => {
    const server = await start({ history: 100 });
    const client = await join(server, "/ws/chat/a", "&since=0");
    server.broadcast("/ws/chat/a", { n: 1 });
    await until(() => framesOf(client).length === 1, "the first frame");
    server.stall();
    server.broadcast("/ws/chat/a", { n: 2 });
    server.broadcast("/ws/chat/a", { n: 3 });
    await sleep(20);
    expect(idsOf(client)).toEqual([1]);
    server.resume();
    server.broadcast("/ws/chat/a", { n: 4 });
    await until(() => framesOf(client).length === 4, "four frames");
    await sleep(20);
    expect(idsOf(client)).toEqual([1, 2, 3, 4]);
  });

  it("gives every client that joins during a stream of broadcasts each frame once, in order, with no gap", async () => {
    const server = await start({ history: 1000 });
    const path = "/ws/chat/stream";
    const total = 300;
    let sent = 0;
    const ticker = setInterval(() => {
      for (let burst = 0; burst < 3 && sent < total; burst++) server.broadcast(path, { n: ++sent });
      if (sent >= total) clearInterval(ticker);
    }, 1);
    const joined: WebSocket[] = [];
    let midway = 0;
    try {
      for (let i = 0; i < 8; i++) {
        joined.push(await join(server, path, "&since=0"));
        await sleep(3);
      }
      // One that resumes from where another had got to.
      midway = idsOf(joined[3]!).at(-1) ?? 0;
      joined.push(await join(server, path, `&since=${midway}`));
      await until(() => sent === total && joined.every((client) => idsOf(client).at(-1) === total), "every frame everywhere", 5000);
    } finally {
      clearInterval(ticker);
    }
    const everything = Array.from({ length: total }, (_, i) => i + 1);
    for (const client of joined.slice(0, -1)) expect(idsOf(client)).toEqual(everything);
    expect(idsOf(joined.at(-1)!)).toEqual(everything.slice(midway));
  });

  it("keeps the history and the numbering across a restart", async () => {
    const server = await start({ history: 10 });
    for (let n = 1; n <= 3; n++) server.broadcast("/ws/chat/a", { n });
    await server.restart();
    const client = await join(server, "/ws/chat/a", "&since=1");
    server.broadcast("/ws/chat/a", { n: 4 });
    await until(() => framesOf(client).length === 3, "three frames");
    expect(idsOf(client)).toEqual([2, 3, 4]);
  });

  it("rejects a history that is not an integer ≥ 0, naming the option", async () => {
    await expect(createReferenceServer({ history: -1 })).rejects.toThrow(/^history must be an integer ≥ 0/);
    await expect(createReferenceServer({ history: 1.5 })).rejects.toThrow(TypeError);
    await expect(createReferenceServer({ history: "5" as never })).rejects.toThrow(/history/);
  });
});
