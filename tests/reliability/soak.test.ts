/**
 * Soak without leaks.
 *
 * - 5,000 drop/reconnect cycles on one socket and 2,000 create/close cycles through the
 *   manager, over an in-memory transport with real timers (fake ones cost more per cycle
 *   than everything else): afterwards no timer (the timer functions are wrapped), no
 *   socket and no `visibilitychange`/`online` listener is left, never two sockets live at
 *   once, never a ticket used twice, and the heap after forced GC stays flat within a
 *   bound that about one leaked closure per cycle would already exceed.
 * - A shorter soak over real sockets against the reference server: afterwards the server
 *   holds no connection and the process has no more TCP handles or timers than before.
 */
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createClient, type ManagedWebSocket, type WebSocketManager } from "../../src/index";
import { createReferenceServer, type ReferenceServer } from "../../src/testing/index";
import { trackedWebSocket } from "../support/tracked-websocket";
import { createMemoryTransport, type MemoryTransport } from "./memory-transport";
import { nextState, stubBrowserEnvironment, trackTimers } from "../support/reliability";
import { until } from "../support/wait";

const DROP_CYCLES = 5_000;
const CREATE_CLOSE_CYCLES = 2_000;
const PARALLEL_KEYS = 20;
const REAL_DROP_CYCLES = 100;
const REAL_CREATE_CLOSE_CYCLES = 100;
/**
 * Heap growth allowed between the first and the last checkpoints of a soak phase (see
 * HeapTrend), 2,500 drop cycles or 1,500 create/close cycles apart: a leak of about
 * 130 B per drop cycle (one closure and its context) or 220 B per created socket would
 * exceed it; a leaked actor, socket, timer or listener per cycle is kilobytes.
 */
const HEAP_BUDGET = 320 * 1024;
/** Drop cycles before the first heap checkpoint (part of the 5,000), so that JIT-compiled code is in place. */
const DROP_WARM_UP = 1_500;
/** Create/close cycles run before the 2,000 that are measured. */
const CREATE_CLOSE_WARM_UP = 1_000;
/** Drop codes the soak cycles through: network drop, going away, server error, ticket rejected, service restart. */
const DROP_CODES = [1006, 1001, 1011, 4001, 1012] as const;

let gc: () => void;
beforeAll(() => {
  setFlagsFromString("--expose-gc");
  gc = runInNewContext("gc") as () => void;
});

/** Heap in use after full collections. */
function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const kB = (bytes: number) => `${(bytes / 1024).toFixed(0)} kB`;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * Heap after forced GC at checkpoints during a phase. Single samples are noisy (JIT code,
 * allocator pages), so growth is the median of the last three checkpoints minus the median
 * of the first three: a real leak grows it linearly with the cycles between them.
 */
class HeapTrend {
  readonly samples: Array<{ cycle: number; heap: number }> = [];
  sample(cycle: number): void {
    this.samples.push({ cycle, heap: settledHeap() });
  }
  get growth(): number {
    const heaps = this.samples.map((s) => s.heap);
    return median(heaps.slice(-3)) - median(heaps.slice(0, 3));
  }
  /** Cycles between the centres of the first and the last three checkpoints. */
  get cycles(): number {
    const at = this.samples.map((s) => s.cycle);
    return at.at(-2)! - at[1]!;
  }
  describe(): string {
    return (
      `heap growth ${kB(this.growth)} over ${this.cycles} cycles (${(this.growth / this.cycles).toFixed(1)} B/cycle; ` +
      `checkpoints ${this.samples.map((s) => kB(s.heap)).join(", ")})`
    );
  }
}

describe("soak over an in-memory transport", () => {
  let transport: MemoryTransport;
  let environment: ReturnType<typeof stubBrowserEnvironment>;
  let timers: ReturnType<typeof trackTimers>;
  let manager: WebSocketManager;

  beforeEach(() => {
    timers = trackTimers();
    environment = stubBrowserEnvironment();
    // The server greets: each reconnect is open at once, not after the 50 ms confirmation window.
    transport = createMemoryTransport({ greeting: '{"type":"hello"}' });
    manager = createClient({
      apiUrl: "http://soak.test",
      WebSocket: transport.WebSocket,
      fetch: transport.fetch,
      reconnectDelay: 0,
      heartbeatInterval: 50,
      heartbeatTimeout: 50,
    }).websocket;
  });
  afterEach(async () => {
    manager.closeAll();
    await until(() => transport.live.size === 0, 2_000);
    environment.restore();
    timers.restore();
  });

  it(`leaves nothing behind after ${DROP_CYCLES} drop/reconnect cycles on one socket`, { timeout: 60_000 }, async () => {
    const socket = manager.open("/ws/chat/soak", {}, "soak");
    let opens = 0;
    let reconnects = 0;
    const listenersWhileOpen = new Set<number>();
    socket.onReconnecting.subscribe(() => (reconnects += 1));
    socket.onStateChange.subscribe((state) => {
      if (state !== "open") return;
      opens += 1;
      listenersWhileOpen.add(environment.listenerCount());
    });
    await until(() => opens === 1, 2_000);

    const heap = new HeapTrend();
    const started = performance.now();
    let heartbeatDrops = 0;
    for (let cycle = 1; cycle <= DROP_CYCLES; cycle++) {
      const opened = opens;
      if (cycle % 500 === 0) {
        // Now and then a dead link found by the heartbeat instead of a close from the server.
        transport.setAnswerPings(false);
        await until(() => reconnects === cycle, 2_000);
        transport.setAnswerPings(true);
        heartbeatDrops += 1;
      } else {
        const [current] = transport.live;
        current!.serverClose(DROP_CODES[cycle % DROP_CODES.length]!);
      }
      await until(() => opens > opened, 2_000);
      if (cycle >= DROP_WARM_UP && cycle % 500 === 0) heap.sample(cycle);
    }
    const elapsed = performance.now() - started;

    const closed = nextState(socket, "closed", 2_000);
    socket.close();
    await closed;
    console.info(
      `[soak] ${DROP_CYCLES} drop/reconnect cycles on one socket in ${(elapsed / 1000).toFixed(1)} s ` +
        `(${heartbeatDrops} by heartbeat timeout): ${heap.describe()}; ` +
        `left: ${timers.pending} timers (of ${timers.created} created), ${transport.live.size} sockets, ` +
        `${environment.listenerCount()} listeners; max ${transport.stats.maxLive} socket live at once, ` +
        `${transport.stats.badTickets} reused tickets`,
    );
    expect(opens).toBe(1 + DROP_CYCLES);
    expect(reconnects).toBe(DROP_CYCLES);
    expect([...listenersWhileOpen]).toEqual([2]); // one visibilitychange + one online, never more
    expect(transport.stats.maxLive).toBe(1);
    expect(transport.stats.badTickets).toBe(0);
    expect(transport.stats.ticketsIssued).toBe(transport.stats.socketsCreated);
    expect(timers.pending).toBe(0);
    expect(transport.live.size).toBe(0);
    expect(environment.listenerCount()).toBe(0);
    expect(heap.growth).toBeLessThan(HEAP_BUDGET);
  });

  it(`leaves nothing behind after ${CREATE_CLOSE_CYCLES} create/close cycles through the manager`, { timeout: 60_000 }, async () => {
    let created = 0;
    /** One round: a socket per key, closed in one of four ways. */
    const round = async (r: number) => {
      const sockets: ManagedWebSocket[] = [];
      const openAll = () => {
        for (let k = 0; k < PARALLEL_KEYS; k++) sockets.push(manager.open(`/ws/chat/k${k}`, {}, `k${k}`));
        created += PARALLEL_KEYS;
      };
      openAll();
      switch (r % 4) {
        case 0: // closed while still connecting
          for (const socket of sockets) socket.close();
          break;
        case 1: // closed once open
          await until(() => sockets.every((socket) => socket.isOpen), 2_000);
          for (const socket of sockets) socket.close();
          break;
        case 2: // replaced by a newer socket with the same key, which is then destroyed
          await until(() => sockets.every((socket) => socket.isOpen), 2_000);
          openAll();
          for (const socket of sockets) socket.destroy();
          break;
        default: // everything at once
          await until(() => sockets.every((socket) => socket.isOpen), 2_000);
          manager.closeAll();
      }
      await until(() => sockets.every((socket) => socket.state === "closed"), 2_000);
      expect(manager.connectionCount).toBe(0);
    };

    const heap = new HeapTrend();
    const started = performance.now();
    let checkpoint = CREATE_CLOSE_WARM_UP;
    for (let r = 0; created < CREATE_CLOSE_WARM_UP + CREATE_CLOSE_CYCLES; r++) {
      await round(r);
      if (created < checkpoint) continue;
      heap.sample(created);
      checkpoint += 250;
    }
    const elapsed = performance.now() - started;

    console.info(
      `[soak] ${created} create/close cycles through the manager in ${(elapsed / 1000).toFixed(1)} s ` +
        `(${PARALLEL_KEYS} keys at a time): ${heap.describe()}; ` +
        `left: ${timers.pending} timers (of ${timers.created} created), ${transport.live.size} sockets, ` +
        `${environment.listenerCount()} listeners`,
    );
    expect(timers.pending).toBe(0);
    expect(transport.live.size).toBe(0);
    expect(environment.listenerCount()).toBe(0);
    expect(transport.stats.badTickets).toBe(0);
    expect(manager.connectionCount).toBe(0);
    expect(heap.growth).toBeLessThan(HEAP_BUDGET);
  });
});

describe("soak over real sockets", () => {
  let server: ReferenceServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  /** Active handles and timers of this process, counted by type. */
  function resources(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
    return counts;
  }

  it(`leaves no socket, handle or timer after ${REAL_DROP_CYCLES} drops and ${REAL_CREATE_CLOSE_CYCLES} create/close cycles`, { timeout: 60_000 }, async () => {
    const before = resources();
    server = await createReferenceServer();
    const { WebSocket: TrackedWebSocket, instances: clientSockets } = trackedWebSocket();
    const manager = createClient({ apiUrl: server.apiUrl, WebSocket: TrackedWebSocket, reconnectDelay: 0 }).websocket;

    const socket = await manager.connect("/ws/chat/real-soak", {}, "real-soak");
    for (let i = 0; i < REAL_DROP_CYCLES; i++) {
      const reopened = nextState(socket, "open", 5_000);
      server.dropAll();
      await reopened;
    }
    const closed = nextState(socket, "closed", 5_000);
    socket.close();
    await closed;

    for (let done = 0; done < REAL_CREATE_CLOSE_CYCLES; done += 10) {
      const batch = Array.from({ length: 10 }, (_, k) => manager.open(`/ws/chat/real-${k}`, {}, `real-${k}`));
      await Promise.all(batch.map((s) => s.ready));
      const gone = batch.map((s) => nextState(s, "closed", 5_000));
      manager.closeAll();
      await Promise.all(gone);
    }

    await server.waitFor((s) => s.liveConnections.length === 0, 5_000);
    expect(manager.connectionCount).toBe(0);
    expect(clientSockets.filter((ws) => ws.readyState !== WebSocket.CLOSED)).toEqual([]);
    expect(clientSockets).toHaveLength(1 + REAL_DROP_CYCLES + REAL_CREATE_CLOSE_CYCLES);

    await server.close();
    server = undefined;
    // Let closed handles leave the loop, then compare with the start.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = resources();
    console.info(`[soak] real sockets: resources before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
    expect(after.TCPSocketWrap ?? 0).toBe(before.TCPSocketWrap ?? 0);
    expect(after.TCPServerWrap ?? 0).toBe(before.TCPServerWrap ?? 0);
    expect(after.Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0);
  });
});
