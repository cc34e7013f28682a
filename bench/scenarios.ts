/**
 * The measured scenarios. Each opens its own connections, measures one thing, and
 * leaves the server with no connection behind, so the next scenario starts clean.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import WebSocket from "ws";
import { type BenchClient, type BenchSocket, type ClientName, type ConnectOptions, createBenchClient } from "./clients";
import type { BenchServer } from "./processes";
import { controlFrame, dataFrame, isControl, seqOf, type ServerControl, STALLING_FRAME } from "./protocol";
import { codeSpace, collectedMemory, deferred, settledMemory, sleep, waitUntil, withTimeout } from "./stats";

/** Sizes of one run: `--quick` shrinks them. */
export interface Plan {
  /** Frames of the inbound and of the outbound burst. */
  frames: number;
  /**
   * Bursts per client and round, the clients taking turns: the table shows each client's
   * fastest, the ratios compare the bursts of each turn. Outbound bursts take seconds, so fewer.
   */
  bursts: { inbound: number; outbound: number };
  /** Idle connections of the memory scenario. */
  idleConnections: number;
  /** They are opened this many at a time. */
  openBatch: number;
  /**
   * Pause after the idle connections opened, before memory is read (ms). The default, 1 s,
   * reads a fresh connection: sockstate's stable-uptime timer (5 s) is still pending.
   */
  idleSettle: number;
  /** Drops per client and round in the reconnect scenario. */
  drops: number;
  /** How long a peer may take to notice a half-open connection before it counts as "never". */
  halfOpenCap: number;
  /** sockstate's heartbeat in the half-open scenario. */
  heartbeat: { interval: number; timeout: number };
}

const OPEN_TIMEOUT = 10_000;
const BURST_TIMEOUT = 120_000;
const DRAIN_TIMEOUT = 15_000;
/** Frames sent per turn of the event loop in the outbound burst. */
const SEND_BATCH = 1000;
/** Pause between a reopen and the next drop. */
const BETWEEN_DROPS = 10;

/**
 * Closes `sockets` and waits until the server has no connection left. `meanwhile`
 * runs once the closes have started (e.g. destroying stalled connections, whose
 * closing handshake would otherwise never finish).
 */
async function closeAndDrain(server: BenchServer, sockets: readonly BenchSocket[], meanwhile?: () => Promise<unknown>): Promise<void> {
  const closing = sockets.map((socket) => withTimeout(socket.close(), DRAIN_TIMEOUT, "close").catch(() => {}));
  await meanwhile?.();
  await Promise.all(closing);
  await waitUntil(async () => (await server.connections()) === 0, DRAIN_TIMEOUT, "server connections to drain", 20);
}

/** Connects once and resolves when open. */
async function openOne(client: BenchClient, path: string, message: (data: string) => void, parsed?: (value: unknown) => void): Promise<BenchSocket> {
  const opened = deferred();
  const socket = client.connect(path, { message, parsed, open: () => opened.resolve() });
  await withTimeout(opened.promise, OPEN_TIMEOUT, `${client.name}: open ${path}`);
  return socket;
}

/** Opens `count` idle connections of `client` at once, under paths `${prefix}/${i}`; resolves with them once all are open. */
export async function openIdle(client: BenchClient, count: number, prefix: string, timeoutMs: number): Promise<BenchSocket[]> {
  const allOpen = deferred();
  let opened = 0;
  const sockets = Array.from({ length: count }, (_, i) =>
    client.connect(`${prefix}/${i}`, {
      message: () => {},
      open: () => {
        if (++opened === count) allOpen.resolve();
      },
    }),
  );
  await withTimeout(allOpen.promise, timeoutMs, `${client.name}: open ${count} connections under ${prefix}`);
  return sockets;
}

/** One burst: wall-clock ms, and CPU ms of this process (all threads) over the same span. */
export interface Burst {
  ms: number;
  cpuMs: number;
}

/** Starts timing a burst, after a full GC so that no client pays for another's garbage. */
function startClock(): () => Burst {
  settledMemory();
  const start = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return { ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
  };
}

/** Inbound throughput: time until the message callback saw all `frames` data frames, in order. */
export async function inbound(client: BenchClient, server: BenchServer, frames: number): Promise<Burst> {
  const done = deferred();
  let expected = 0;
  const arrived = (seq: number) => {
    if (seq === expected) {
      expected += 1;
      if (expected === frames) done.resolve();
    } else if (seq !== -1) {
      done.reject(new Error(`${client.name}: inbound frame ${seq} arrived where ${expected} was due`));
    }
  };
  const socket = await openOne(
    client,
    "inbound",
    (data) => arrived(seqOf(data)),
    (value) => arrived((value as { seq?: number }).seq ?? -1),
  );
  try {
    const stop = startClock();
    socket.send(controlFrame({ type: "flood", count: frames }));
    await withTimeout(done.promise, BURST_TIMEOUT, `${client.name}: inbound burst`);
    return stop();
  } finally {
    await closeAndDrain(server, [socket]);
  }
}

/** Outbound throughput: time from the first send until the server confirmed all `frames`, in order. */
export async function outbound(client: BenchClient, server: BenchServer, frames: number): Promise<Burst> {
  const done = deferred<ServerControl>();
  const socket = await openOne(client, "outbound", (data) => {
    if (!isControl(data)) return;
    const control = JSON.parse(data) as ServerControl;
    if (control.type === "sink-done") done.resolve(control);
  });
  try {
    socket.send(controlFrame({ type: "sink", count: frames }));
    const stop = startClock();
    for (let seq = 0; seq < frames; ) {
      const end = Math.min(frames, seq + SEND_BATCH);
      for (; seq < end; seq++) socket.send(dataFrame(seq));
      await nextTurn();
    }
    const result = await withTimeout(done.promise, BURST_TIMEOUT, `${client.name}: outbound burst`);
    const elapsed = stop();
    if (result.type !== "sink-done" || result.count !== frames || result.outOfOrder !== 0) {
      throw new Error(`${client.name}: the server saw ${JSON.stringify(result)} for ${frames} frames`);
    }
    return elapsed;
  } finally {
    await closeAndDrain(server, [socket]);
  }
}

/** Per idle connection, in bytes: (heap used + external) after forced GC, and how much of it is compiled code. */
export interface IdleMemory {
  bytes: number;
  codeBytes: number;
}

/** Memory per idle connection: (heap used + external) after forced GC, per connection. */
export async function idleMemory(client: BenchClient, server: BenchServer, plan: Plan): Promise<IdleMemory> {
  const sockets: BenchSocket[] = [];
  const before = await collectedMemory();
  const codeBefore = codeSpace();
  try {
    for (let first = 0; first < plan.idleConnections; first += plan.openBatch) {
      const size = Math.min(plan.openBatch, plan.idleConnections - first);
      const batchOpen = deferred();
      let opened = 0;
      for (let i = 0; i < size; i++) {
        const socket = client.connect(`idle/${first + i}`, {
          message: () => {},
          open: () => {
            opened += 1;
            if (opened === size) batchOpen.resolve();
          },
        });
        sockets.push(socket);
      }
      await withTimeout(batchOpen.promise, OPEN_TIMEOUT, `${client.name}: open idle batch at ${first}`);
    }
    await sleep(plan.idleSettle);
    const bytes = ((await collectedMemory()) - before) / plan.idleConnections;
    return { bytes, codeBytes: (codeSpace() - codeBefore) / plan.idleConnections };
  } finally {
    await closeAndDrain(server, sockets);
  }
}

/**
 * Reconnect latency after `drops` server-side drops (TCP destroyed, no close frame),
 * each client at its smallest reconnect delay: ms from the moment the underlying `ws`
 * reported the close to the client's own "open" (sockstate: `onStateChange('open')`,
 * ticket included). The server greets each new connection with one frame, so a
 * confirmed open (docs/protocol.md §4) comes with it, unless `options.silent`.
 */
export async function reconnectLatencies(name: ClientName, server: BenchServer, drops: number, options: ConnectOptions = {}): Promise<number[]> {
  let closedAt = 0;
  class StampedWebSocket extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      // Registered before the client's own listeners, so it stamps first.
      this.on("close", () => {
        closedAt = performance.now();
      });
    }
  }
  const client = createBenchClient(name, server, { ...options, fastReconnect: true, WebSocket: StampedWebSocket });
  let reopened = deferred<number>();
  let first = true;
  const opened = deferred();
  const socket = client.connect("reconnect", {
    message: () => {},
    open: () => {
      if (first) {
        first = false;
        opened.resolve();
      } else reopened.resolve(performance.now());
    },
  });
  const latencies: number[] = [];
  try {
    await withTimeout(opened.promise, OPEN_TIMEOUT, `${name}: open`);
    for (let drop = 0; drop < drops; drop++) {
      await sleep(BETWEEN_DROPS);
      reopened = deferred<number>();
      closedAt = 0;
      socket.send(controlFrame({ type: "drop" }));
      const openedAt = await withTimeout(reopened.promise, OPEN_TIMEOUT, `${name}: reopen after drop ${drop + 1}`);
      if (closedAt === 0) throw new Error(`${name}: reopened without a close`);
      latencies.push(openedAt - closedAt);
    }
    return latencies;
  } finally {
    await closeAndDrain(server, [socket]);
  }
}

/** Half-open outcome of one client, in ms after the last frame before the stall. */
export interface HalfOpenResult {
  /** When the client noticed (sockstate: `reconnecting`; the others: `close`); `undefined` = not within the cap. */
  detected: number | undefined;
  /** When it was open again on a new connection; `undefined` = not within the cap. */
  reopened: number | undefined;
}

/**
 * Half-open detection, every client at once: each asks the server to stall its
 * connection (the server answers `stalling`, then neither reads nor writes nor closes),
 * and the clock starts at that last frame. Waits until every client is open again, or
 * `plan.halfOpenCap` ms.
 */
export async function halfOpen(names: readonly ClientName[], server: BenchServer, plan: Plan): Promise<Map<ClientName, HalfOpenResult>> {
  const runs = names.map((name) => {
    const client = createBenchClient(name, server, { fastReconnect: true, heartbeat: plan.heartbeat });
    const opened = deferred();
    const reopened = deferred();
    const run = { name, stalledAt: 0, detectedAt: 0, reopenedAt: 0, opened, reopened, socket: undefined as unknown as BenchSocket };
    run.socket = client.connect("half-open", {
      message: (data) => {
        if (data === STALLING_FRAME) run.stalledAt = performance.now();
      },
      down: () => {
        if (run.stalledAt > 0 && run.detectedAt === 0) run.detectedAt = performance.now();
      },
      open: () => {
        if (run.stalledAt === 0) opened.resolve();
        else if (run.reopenedAt === 0) {
          run.reopenedAt = performance.now();
          reopened.resolve();
        }
      },
    });
    return run;
  });
  try {
    await withTimeout(Promise.all(runs.map((run) => run.opened.promise)), OPEN_TIMEOUT, "half-open: open");
    for (const run of runs) run.socket.send(controlFrame({ type: "stall" }));
    await Promise.race([Promise.all(runs.map((run) => run.reopened.promise)), sleep(plan.halfOpenCap)]);
    const within = (at: number, run: (typeof runs)[number]) =>
      at > 0 && run.stalledAt > 0 && at - run.stalledAt <= plan.halfOpenCap ? at - run.stalledAt : undefined;
    return new Map(runs.map((run) => [run.name, { detected: within(run.detectedAt, run), reopened: within(run.reopenedAt, run) }]));
  } finally {
    await closeAndDrain(
      server,
      runs.map((run) => run.socket),
      () => server.destroyStalled(),
    );
  }
}
