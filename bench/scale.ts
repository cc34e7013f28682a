/**
 * The scale figure, in a process of its own (fresh heap, raised file limit, pinned):
 * `count` managed sockets of one sockstate client against the bench server — time to
 * open them all (the server greets each new connection), memory per socket, and CPU
 * while idle with heartbeats running; then, once those are closed, the time to open as
 * many against a silent server (each open confirmed by the 50 ms window, docs/protocol.md §4).
 *
 * Usage (bench/run.ts spawns it):
 * `node --expose-gc --import tsx bench/scale.ts <apiUrl> <count> <heartbeatMs> <idleMs> <settleMs>`
 * where `settleMs` is the wait after the last open before memory is read: 6 s lets the
 * ticket requests' keep-alive connections (Node's fetch keeps them ~4 s, the server 5 s)
 * close, so what is left is what an idle socket costs.
 */
import WebSocket from "ws";
import { createClient } from "../dist/index.mjs";
import type { ManagedWebSocket } from "../dist/index.mjs";
import { PING_FRAME } from "../machines/protocol";
import { reportToParent } from "./processes";
import { SILENT_SEGMENT, TICKETED_PREFIX } from "./protocol";
import { collectedMemory, deferred, sleep, waitUntil, withTimeout } from "./stats";

export interface ScaleResult {
  type: "scale";
  count: number;
  heartbeatInterval: number;
  /** ms from the first `open()` until every socket reported `open`. */
  openAllMs: number;
  /** Reconnect attempts while opening (a timeout under the herd would show here). */
  reconnectsWhileOpening: number;
  /** The same against a silent server. */
  openAllSilentMs?: number;
  reconnectsWhileOpeningSilent?: number;
  /** (heap used + external) per socket after forced GC, bytes. */
  bytesPerSocket: number;
  /** Resident set size per socket, bytes. */
  rssPerSocket: number;
  /** Length of the idle window, ms. */
  idleMs: number;
  /** CPU time (user + system) of this process during the idle window, as a share of one core. */
  idleCpuShare: number;
  /** Pings the sockets sent during the idle window (counted as they go out). */
  heartbeats: number;
}

/** Bound on opening all sockets at once: a minute, plus 25 ms per socket (a loaded 2-core machine). */
const openTimeout = (count: number) => 60_000 + 25 * count;
/**
 * Pause between the forced GC of the memory reading and the idle window. A GC of this
 * heap can block the event loop for over a second, which every socket's wall-clock watch
 * reads as a clock jump: all of them ping at once. That burst is not idle cost.
 */
const AFTER_GC = 3000;

const CLOSE_TIMEOUT = 60_000;

async function main(): Promise<ScaleResult> {
  const [apiUrl, ...numbers] = process.argv.slice(2);
  const [count = 0, heartbeatInterval = 0, idleMs = 0, settleMs = -1] = numbers.map(Number);
  if (!apiUrl || !(count > 0) || !(heartbeatInterval > 0) || !(idleMs > 0) || !(settleMs >= 0)) {
    throw new TypeError("usage: scale.ts <apiUrl> <count> <heartbeatMs> <idleMs> <settleMs>");
  }
  // Count heartbeats as they go out: wrap ws's send to see each ping frame.
  let pings = 0;
  class CountingWebSocket extends WebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      if (data === PING_FRAME) pings += 1;
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  }
  const client = createClient({ apiUrl, WebSocket: CountingWebSocket, heartbeatInterval });
  const before = await collectedMemory();
  const rssBefore = process.memoryUsage().rss;

  /** Opens `count` sockets at once under `prefix`; resolves once every one is open. */
  const openAll = async (prefix: string) => {
    const allOpen = deferred();
    let opened = 0;
    let reconnects = 0;
    const sockets: ManagedWebSocket[] = [];
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const socket = client.websocket.open(`${prefix}scale/${i}`);
      socket.onStateChange.subscribe((state) => {
        if (state === "open" && ++opened === count) allOpen.resolve();
      });
      socket.onReconnecting.subscribe(() => {
        reconnects += 1;
      });
      sockets.push(socket);
    }
    await withTimeout(allOpen.promise, openTimeout(count), `scale: open ${count} sockets`).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)} (${opened} open, ${reconnects} reconnect attempts)`);
    });
    return { sockets, ms: performance.now() - start, reconnects };
  };
  const closeAll = async (sockets: ManagedWebSocket[]) => {
    client.websocket.closeAll();
    await waitUntil(() => sockets.every((socket) => socket.state === "closed"), CLOSE_TIMEOUT, "scale: close all");
  };

  const { sockets, ms: openAllMs, reconnects: reconnectsWhileOpening } = await openAll(TICKETED_PREFIX);

  await sleep(settleMs);
  const bytesPerSocket = ((await collectedMemory()) - before) / count;
  const rssPerSocket = (process.memoryUsage().rss - rssBefore) / count;

  await sleep(AFTER_GC);
  pings = 0;
  const cpuBefore = process.cpuUsage();
  const idleStart = performance.now();
  await sleep(idleMs);
  const cpu = process.cpuUsage(cpuBefore);
  const idleWall = performance.now() - idleStart;
  const heartbeats = pings;
  const stillOpen = sockets.filter((socket) => socket.isOpen).length;
  if (stillOpen !== count) throw new Error(`scale: only ${stillOpen} of ${count} sockets stayed open while idle`);

  await closeAll(sockets);
  const silent = await openAll(`${TICKETED_PREFIX}${SILENT_SEGMENT}`);
  await closeAll(silent.sockets);

  const result: ScaleResult = {
    type: "scale",
    count,
    heartbeatInterval,
    openAllMs,
    reconnectsWhileOpening,
    openAllSilentMs: silent.ms,
    reconnectsWhileOpeningSilent: silent.reconnects,
    bytesPerSocket,
    rssPerSocket,
    idleMs: idleWall,
    idleCpuShare: (cpu.user + cpu.system) / 1000 / idleWall,
    heartbeats,
  };
  return result;
}

reportToParent(main);
