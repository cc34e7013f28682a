/**
 * Ticket endpoint chaos. During an outage the reference server's ticket
 * endpoint fails in every way it can — 5xx, 429, 408, a body that is not JSON, no
 * answer at all (connection refused), an answer slower than `connectTimeout`, and slow
 * but valid tickets whose upgrade is then refused — in an order drawn from a fixed seed.
 * Every fault is real (the reference server's fault controls, a closed port); the `fetch`
 * wrapper given to the client only picks the next one and records what happened.
 *
 * The socket must keep retrying with backoff, never present a ticket twice, never have
 * two sockets at once, and recover once the endpoint heals; a 401 stops it for good.
 */
import { createServer } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { backoffCeiling } from "../../machines/index";
import { createClient, type ManagedWebSocket, TicketError } from "../../src/index";
import { createReferenceServer, type ReferenceServer } from "../../src/testing/index";
import { seededRandom } from "../model/seed";
import { nextState } from "../support/reliability";
import { sleep } from "../support/wait";

const SEED = 0x5eed7;
const CONNECT_TIMEOUT = 300;
const BACKOFF = { reconnectDelay: 20, maxReconnectDelay: 160 } as const;

type Fault = "500" | "502" | "503" | "429" | "408" | "malformed" | "refused" | "timeout" | "slow-then-refused-upgrade";
const FAULTS: readonly Fault[] = ["500", "502", "503", "429", "408", "malformed", "refused", "timeout", "slow-then-refused-upgrade"];

/** Every fault twice, plus as many drawn at random, shuffled by the seed. */
function chaosPlan(seed: number): Fault[] {
  const next = seededRandom(seed);
  const plan = [...FAULTS, ...FAULTS, ...FAULTS.map(() => FAULTS[Math.floor(next() * FAULTS.length)]!)];
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  return plan;
}

/** A loopback port nobody listens on: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

interface TicketCall {
  fault: Fault | "healthy";
  startedAt: number;
  endedAt: number;
}

let server: ReferenceServer;
let socket: ManagedWebSocket | undefined;

beforeEach(async () => {
  server = await createReferenceServer();
});
afterEach(async () => {
  socket?.destroy();
  socket = undefined;
  await server.close();
});

/**
 * A client whose ticket requests go through a recorder that arms the next fault of
 * `plan` on the reference server (or sends the request to a closed port) while `chaos.on`.
 */
async function chaoticClient(plan: readonly Fault[]) {
  const deadApi = `http://127.0.0.1:${await closedPort()}`;
  const calls: TicketCall[] = [];
  const chaos = { on: false };
  const sockets: WebSocket[] = [];
  let maxClientSockets = 0;
  class CountingWebSocket extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      sockets.push(this);
      const alive = sockets.filter((ws) => ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN);
      maxClientSockets = Math.max(maxClientSockets, alive.length);
    }
  }
  const fetchWithChaos = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const fault = chaos.on ? plan[calls.filter((c) => c.fault !== "healthy").length % plan.length]! : "healthy";
    const call: TicketCall = { fault, startedAt: performance.now(), endedAt: Number.NaN };
    calls.push(call);
    server.setTicketLatency(0);
    let url = String(input);
    switch (fault) {
      case "healthy":
        break;
      case "malformed":
        server.malformTickets(1);
        break;
      case "refused":
        url = url.replace(server.apiUrl, deadApi);
        break;
      case "timeout":
        server.setTicketLatency(CONNECT_TIMEOUT * 3);
        break;
      case "slow-then-refused-upgrade":
        server.setTicketLatency(CONNECT_TIMEOUT / 3);
        server.refuseConnections(1013, 1, "try again later");
        break;
      default:
        server.rejectTickets(Number(fault), 1);
    }
    try {
      return await fetch(url, init);
    } finally {
      call.endedAt = performance.now();
    }
  };
  const client = createClient({
    apiUrl: server.apiUrl,
    WebSocket: CountingWebSocket,
    fetch: fetchWithChaos,
    connectTimeout: CONNECT_TIMEOUT,
    heartbeatInterval: 0,
    ...BACKOFF,
  });
  return { client, calls, chaos, sockets, maxClientSockets: () => maxClientSockets };
}

describe("ticket endpoint chaos during an outage", () => {
  it("keeps retrying with backoff through every kind of failure, never reuses a ticket, never holds two sockets, and recovers", { timeout: 30_000 }, async () => {
    const plan = chaosPlan(SEED);
    const { client, calls, chaos, maxClientSockets } = await chaoticClient(plan);
    socket = await client.websocket.connectToChat("chaos");
    const errors: unknown[] = [];
    const attempts: number[] = [];
    socket.onError.subscribe((error) => errors.push(error));
    socket.onReconnecting.subscribe((attempt) => attempts.push(attempt));
    // The server side never holds two live connections of this client at any moment.
    // (A predicate that never holds, evaluated after every server event until the server closes.)
    let maxServerLive = 0;
    server
      .waitFor((s) => {
        maxServerLive = Math.max(maxServerLive, s.liveConnections.length);
        return false;
      }, 25_000)
      .catch(() => undefined);

    chaos.on = true;
    server.dropAll(); // the outage starts
    await server.waitFor(() => calls.filter((c) => c.fault !== "healthy").length >= plan.length, 20_000);
    chaos.on = false; // the endpoint heals; the attempt in flight still meets its fault
    await nextState(socket, "open", 5_000);
    await sleep(100);

    const faulty = calls.filter((c) => c.fault !== "healthy");
    console.info(
      `[chaos] seed ${SEED.toString(16)}: ${faulty.length} failed ticket requests ` +
        `(${FAULTS.map((f) => `${f} ×${faulty.filter((c) => c.fault === f).length}`).join(", ")}), ` +
        `${attempts.length} reconnect attempts, recovered ${(performance.now() - faulty.at(-1)!.endedAt).toFixed(0)} ms after the last fault`,
    );

    // Retried, one attempt after the other, each after its backoff delay.
    expect(attempts).toEqual(attempts.map((_, i) => i + 1));
    expect(attempts.length).toBeGreaterThanOrEqual(plan.length);
    const outage = calls.slice(calls.indexOf(faulty[0]!));
    outage.slice(1).forEach((call, i) => {
      const attempt = i + 2;
      const minimumWait = backoffCeiling(attempt, BACKOFF) / 2;
      expect(call.startedAt - outage[i]!.endedAt, `wait before attempt ${attempt}`).toBeGreaterThanOrEqual(minimumWait - 2);
    });

    // Every ticket presented once, every upgrade with a valid one.
    const presented = server.connections.map((c) => c.ticket);
    expect(new Set(presented).size).toBe(presented.length);
    expect(server.connections.map((c) => c.ticketStatus)).toEqual(server.connections.map(() => "valid"));
    // Never two sockets at once, on either side.
    expect(maxClientSockets()).toBe(1);
    expect(maxServerLive).toBe(1);
    // Failures were reported as TicketErrors with the status of the answer (0 without one).
    const statuses = errors.filter((e): e is TicketError => e instanceof TicketError).map((e) => e.status);
    for (const status of [500, 502, 503, 429, 408, 200, 0]) expect(statuses).toContain(status);

    // Recovered: one live connection, on a fresh valid ticket, carrying data.
    expect(socket.state).toBe("open");
    expect(server.liveConnections).toHaveLength(1);
    expect(server.connections.at(-1)!.ticketValid).toBe(true);
  });

  it("stops for good with a TicketError when the endpoint answers 401 during the outage", async () => {
    const { client, calls } = await chaoticClient([]);
    socket = await client.websocket.connectToChat("revoked");
    const errors: unknown[] = [];
    socket.onError.subscribe((error) => errors.push(error));
    const closed = nextState(socket, "closed", 5_000);
    server.rejectTickets(503, 2);
    server.rejectTickets(401, 1);
    server.dropAll();
    await closed;
    const requestsAtClose = calls.length;
    await sleep(BACKOFF.maxReconnectDelay * 3);

    expect(server.ticketRequests.map((r) => r.status).slice(-3)).toEqual([503, 503, 401]);
    expect(calls).toHaveLength(requestsAtClose); // no retry after the 401
    const refusal = errors.at(-1);
    expect(refusal).toBeInstanceOf(TicketError);
    expect((refusal as TicketError).status).toBe(401);
    expect(client.websocket.connectionCount).toBe(0);
    expect(server.liveConnections).toHaveLength(0);
  });

  it("rejects connect with a TicketError when the first ticket request answers 403", async () => {
    const { client, calls } = await chaoticClient([]);
    server.rejectTickets(403, 1);
    const error = await client.websocket.connectToChat("forbidden").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TicketError);
    expect((error as TicketError).status).toBe(403);
    await sleep(100);
    expect(calls).toHaveLength(1);
    expect(server.connections).toHaveLength(0);
  });
});
