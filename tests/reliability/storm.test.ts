/**
 * Reconnect storm (issue 7): one client holds 500 sockets to one reference server, and
 * the server restarts. Every socket must come back exactly once — no socket lost, none
 * duplicated, each on a distinct fresh ticket — and the jittered backoff must spread the
 * herd over time instead of sending 500 reconnects at the same instant.
 *
 * Spread measure: with `reconnectDelay` d the first reconnect attempt waits a delay drawn
 * uniformly from [d/2, d]. The attempt start times (`onReconnecting`, measured from the
 * restart) must cover at least 60% of that window, and no tenth of their span may hold
 * more than 25% of the attempts. A herd without jitter fails both: every attempt lands
 * within the few ms it takes to process 500 timers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createClient, type ManagedWebSocket, type WebSocketManager } from "../../src/index";
import { createReferenceServer, type ReferenceServer } from "../../src/testing/index";
import { sleep, spread } from "./support";

const SOCKETS = 500;
const RECONNECT_DELAY = 2_000;
const DOWNTIME = 300;
const MAX_SLICE_SHARE = 0.25;
const MIN_WINDOW_COVERAGE = 0.6;

let server: ReferenceServer;
let manager: WebSocketManager;

beforeAll(async () => {
  server = await createReferenceServer();
  manager = createClient({
    apiUrl: server.apiUrl,
    WebSocket,
    reconnectDelay: RECONNECT_DELAY,
    maxReconnectDelay: RECONNECT_DELAY,
    connectTimeout: 10_000,
  }).websocket;
});
afterAll(async () => {
  manager.closeAll();
  await server.close();
});

describe("reconnect storm", () => {
  it(`brings all ${SOCKETS} sockets back once each, on fresh tickets, spread by the jitter`, { timeout: 60_000 }, async () => {
    const sockets: ManagedWebSocket[] = [];
    for (let i = 0; i < SOCKETS; i++) sockets.push(manager.open(`/ws/chat/storm-${i}`, {}, `storm-${i}`));
    await Promise.all(sockets.map((socket) => socket.ready));
    expect(manager.connectionCount).toBe(SOCKETS);
    expect(server.liveConnections).toHaveLength(SOCKETS);
    const ticketsBefore = new Set(server.connections.map((c) => c.ticket));
    server.clearRecords();

    const attemptAt = new Map<ManagedWebSocket, number[]>();
    const reopenedAt = new Map<ManagedWebSocket, number>();
    for (const socket of sockets) {
      socket.onReconnecting.subscribe(() => attemptAt.set(socket, [...(attemptAt.get(socket) ?? []), performance.now()]));
      socket.onStateChange.subscribe((state) => {
        if (state === "open") reopenedAt.set(socket, performance.now());
      });
    }

    const restartedAt = performance.now();
    await server.restart({ downtime: DOWNTIME });
    await server.waitFor((s) => s.liveConnections.length === SOCKETS, 30_000);
    await sleep(500); // anything duplicated or late would show up now
    const allOpenAfter = performance.now() - restartedAt;

    // Nothing lost, nothing duplicated.
    expect(manager.connectionCount).toBe(SOCKETS);
    expect(sockets.filter((socket) => socket.state !== "open")).toEqual([]);
    expect(server.liveConnections).toHaveLength(SOCKETS);
    expect(new Set(server.liveConnections.map((c) => c.path))).toEqual(new Set(sockets.map((_, i) => `/ws/chat/storm-${i}`)));
    expect(server.connections).toHaveLength(SOCKETS); // one upgrade per socket, no extra attempt
    expect(server.connections.every((c) => c.ticketValid)).toBe(true);
    const tickets = server.connections.map((c) => c.ticket!);
    expect(new Set(tickets).size).toBe(SOCKETS);
    expect(tickets.filter((ticket) => ticketsBefore.has(ticket))).toEqual([]);
    const issuedAfterRestart = new Set(server.ticketRequests.map((r) => r.ticket));
    expect(tickets.every((ticket) => issuedAfterRestart.has(ticket))).toBe(true);

    // Exactly one attempt each, spread by the jitter.
    expect([...attemptAt.values()].map((times) => times.length)).toEqual(new Array(SOCKETS).fill(1));
    const wallAtRestart = Date.now() - (performance.now() - restartedAt);
    const attempts = [...attemptAt.values()].map(([time]) => time! - restartedAt);
    const arrivals = server.ticketRequests.map((request) => request.at - wallAtRestart);
    const reopens = [...reopenedAt.values()].map((time) => time - restartedAt);
    const attemptSpread = spread(attempts);
    const arrivalSpread = spread(arrivals);
    const reopenSpread = spread(reopens);
    const describeSpread = (name: string, times: number[], measured: ReturnType<typeof spread>) =>
      `${name} ${Math.min(...times).toFixed(0)}–${Math.max(...times).toFixed(0)} ms (span ${measured.span.toFixed(0)} ms, ` +
      `largest 10% slice ${(measured.maxSliceShare * 100).toFixed(1)}%: ${measured.counts.join(" ")})`;
    console.info(
      `[storm] ${SOCKETS} sockets, d = ${RECONNECT_DELAY} ms, times after the restart: ` +
        `${describeSpread("attempts", attempts, attemptSpread)}; ` +
        `${describeSpread("ticket requests at the server", arrivals, arrivalSpread)}; ` +
        `${describeSpread("reopens", reopens, reopenSpread)}; all ${SOCKETS} open after ${allOpenAfter.toFixed(0)} ms`,
    );
    expect(Math.min(...attempts)).toBeGreaterThanOrEqual(RECONNECT_DELAY / 2 - 5);
    expect(attemptSpread.span).toBeGreaterThanOrEqual((RECONNECT_DELAY / 2) * MIN_WINDOW_COVERAGE);
    expect(attemptSpread.maxSliceShare).toBeLessThanOrEqual(MAX_SLICE_SHARE);
    expect(arrivalSpread.maxSliceShare).toBeLessThanOrEqual(MAX_SLICE_SHARE);
  });
});
