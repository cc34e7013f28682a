/**
 * Where an idle socket's memory goes, without `ws` or a server: per socket, the whole
 * facade over a fake WebSocket (once announced, and once its stable-uptime timer fired),
 * the connection machine's actor alone, XState's own floor for that shape, the machine's
 * bare snapshot stepped with `transition()` (no actor), and the cost of the way XState's
 * `Actor` merges its options on this V8.
 * Measures the built package (`dist/`; run `npm run build` first).
 *
 *   node --expose-gc --import tsx bench/memory-floor.ts
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createActor, fromCallback, initialTransition, setup, transition, waitFor } from "xstate";
import { connectionMachine, createConnectionImplementations, OPEN_CONFIRMATION_DELAY, Ticket } from "../dist/machine.mjs";
import { createClient, DEFAULT_SOCKET_OPTIONS } from "../dist/index.mjs";
import { kib, settledMemory, sleep, withTimeout } from "./stats";

const COUNT = 1000;

/** Opens at once on the next turn and never talks again. */
class FakeWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: unknown) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  constructor(readonly url: string) {
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.({ type: "open" });
    }, 0);
  }
  send(): void {}
  close(code = 1000): void {
    this.readyState = 3;
    setTimeout(() => this.onclose?.({ code, reason: "", wasClean: true }), 0);
  }
}

const fetchTicket = async () => new Response('{"ticket":"t"}', { status: 200 });

/** The machine's input for connection `i`, with the default settings (no `debug`). */
const { debug: _debug, ...settings } = DEFAULT_SOCKET_OPTIONS;
const machineInput = (i: number) => ({ key: `k${i}`, path: `/p/${i}`, apiUrl: "http://a", wsUrl: "ws://a", settings });

/** Heap used + external after six full collections: the figures here are small and settle late. */
const heap = () => settledMemory(6);

interface Measured<T> {
  create: (i: number) => T;
  /** Resolves once the item is in the state measured (a socket: open and announced). */
  ready?: (item: T) => Promise<unknown>;
  /** How long to wait after `ready`, for what is still in flight. */
  settle?: number;
  release?: (item: T) => void;
}

/** Longest wait for a batch to become `ready`: a hang becomes an error. */
const READY_TIMEOUT = 30_000;

/**
 * Bytes per item of what `create` keeps alive, once every item is `ready`. A warm-up batch
 * goes first and is released, so that lazy initialisation (undici's on the first ticket,
 * compiled code) is not counted; without it the figures run ~1–3 KB higher and vary from
 * run to run. Waiting for `ready` matters: opening 1,000 sockets at once takes ~1 s here,
 * and a fixed short wait measured some of them still fetching their ticket (~1 KB more).
 */
async function perItem<T>(measured: Measured<T>): Promise<number> {
  const { create, ready = async () => {}, settle = 0, release = () => {} } = measured;
  const allReady = (items: T[]) => withTimeout(Promise.all(items.map(ready)), READY_TIMEOUT, "memory-floor: ready");
  const warm = Array.from({ length: 300 }, (_, i) => create(-1 - i));
  await allReady(warm);
  warm.forEach(release);
  warm.length = 0;
  await sleep(50);
  const before = heap();
  const kept = Array.from({ length: COUNT }, (_, i) => create(i));
  await allReady(kept);
  await sleep(settle);
  const bytes = (heap() - before) / COUNT;
  kept.length = 0;
  return bytes;
}

/** After the announcement, for what is still in flight. */
const SETTLE = 250;
/** Past `stableUptime` (5 s by default): the open state's second timer has fired. */
const STABLE_UPTIME_SETTLE = 5500;

async function measureFacade(settle: number): Promise<number> {
  const client = createClient({ apiUrl: "http://127.0.0.1:9", WebSocket: FakeWebSocket, fetch: fetchTicket });
  return perItem({
    create: (i) => client.websocket.open(`/idle/${i}`),
    ready: (socket) => socket.ready,
    settle,
    release: (socket) => socket.close(),
  });
}

async function measureMachine(settle: number): Promise<number> {
  const machine = connectionMachine.provide(createConnectionImplementations({ WebSocket: FakeWebSocket, fetch: fetchTicket }));
  const parent = createActor(fromCallback(() => {})).start();
  const port = { opened() {}, message() {}, detached() {} };
  return perItem({
    create: (i) => createActor(machine, { parent, input: { ...machineInput(i), port } }).start(),
    // `waitFor` lets go of the actor once it resolves; an `established` listener would leave
    // an (empty) listener set behind in every actor, ~0.2 KB that the facade does not have.
    ready: (actor) => waitFor(actor, (snapshot) => snapshot.matches({ socket: "open" })),
    // The last socket to open is announced OPEN_CONFIRMATION_DELAY later.
    settle: OPEN_CONFIRMATION_DELAY + settle,
    release: (actor) => actor.send({ type: "connection.close", code: 1000, reason: "" }),
  });
}

/** XState alone: a one-state machine, optionally invoking a callback actor and holding a timer. */
async function floor(shape: { invoke: boolean; after: boolean }): Promise<number> {
  const logic = setup({ actors: { child: fromCallback(() => () => {}) } }).createMachine({
    initial: "idle",
    states: {
      idle: {
        ...(shape.invoke ? { invoke: { src: "child" } } : {}),
        ...(shape.after ? { after: { 60_000: "idle" } } : {}),
      },
    },
  });
  const root = createActor(fromCallback(() => {})).start();
  return perItem({ create: () => createActor(logic, { parent: root }).start() });
}

/**
 * No actor at all: the machine's snapshot in `socket.open.live`, stepped with the pure
 * `transition()`, as a runtime of one's own would keep it. In `socket.open.live` the machine
 * invokes nothing (the socket lives in the context's link), so `children` is empty; without
 * it the snapshot is what such a runtime would hold.
 */
async function pureSnapshot(withChildren: boolean): Promise<number> {
  const create = (i: number) => {
    let [snapshot] = initialTransition(connectionMachine, machineInput(i));
    [snapshot] = transition(connectionMachine, snapshot, { type: "ticket.issued", ticket: new Ticket("t") } as never);
    [snapshot] = transition(connectionMachine, snapshot, { type: "socket.open" });
    if (!snapshot.matches({ socket: { open: "live" } })) throw new Error("memory-floor: the pure snapshot did not reach socket.open.live");
    return withChildren ? snapshot : { ...snapshot, children: {} };
  };
  return perItem({ create });
}

/**
 * XState's `Actor` constructor merges its options as `{ ...defaultOptions, ...options }`.
 * On Node 20's V8, an object built by a spread that then gains keys of its own gets a
 * hidden class (map and descriptor array) of its own, every time. A socket has two actors,
 * so two such objects. `Object.assign` builds the same object on one shared hidden class.
 */
const ACTOR_DEFAULTS = { clock: { setTimeout, clearTimeout }, logger: console.log.bind(console), devTools: false };
async function mergedOptions(merge: "spread" | "assign"): Promise<number> {
  return perItem({
    create: (i) => {
      const options = { id: `k${i}`, input: { i }, parent: undefined };
      return merge === "spread" ? { ...ACTOR_DEFAULTS, ...options } : Object.assign({}, ACTOR_DEFAULTS, options);
    },
  });
}

const scenarios: Record<string, [label: string, run: () => Promise<number>]> = {
  facade: ["sockstate socket through createClient", () => measureFacade(SETTLE)],
  stable: ["  the same once its stable-uptime timer fired", () => measureFacade(STABLE_UPTIME_SETTLE)],
  machine: ["connection machine with its socket, no facade", () => measureMachine(SETTLE)],
  machineStable: ["  the same once its stable-uptime timer fired", () => measureMachine(STABLE_UPTIME_SETTLE)],
  bare: ["XState floor: started actor (shared system)", () => floor({ invoke: false, after: false })],
  invoke: ["              + one invoked callback actor", () => floor({ invoke: true, after: false })],
  after: ["              + one pending after timer", () => floor({ invoke: true, after: true })],
  pure: ["no actor: pure transition() snapshot, open", () => pureSnapshot(true)],
  bareSnapshot: ["           the same without its children", () => pureSnapshot(false)],
  spread: ["actor options: { ...defaults, ...options }", () => mergedOptions("spread")],
  assign: ["actor options: Object.assign({}, …)", () => mergedOptions("assign")],
};

const only = process.argv[2];
if (only) {
  // One scenario per process: nothing another scenario left behind is counted.
  const [label, run] = scenarios[only]!;
  console.log(`  ${label.padEnd(46)} ${kib(await run())}`);
} else {
  console.log(`per idle socket, ${COUNT} of each, heap + external after GC (built package, fake WebSocket):`);
  for (const name of Object.keys(scenarios)) {
    execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name], { stdio: "inherit" });
  }
}
process.exit(0);
